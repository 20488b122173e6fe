"""What SageMaker Pipelines does with each IR feature: mapped, lowered, or refused and why."""

from __future__ import annotations

from mlcompile.ir.features import Support

SUPPORT: dict[str, Support] = {
    "function-step": Support(
        "mapped", "Processing step running the step runtime from the code bundle"
    ),
    "container-step": Support("mapped", "Processing step with the step's image and command"),
    "container-outputs": Support(
        "lowered",
        "each value file is a ProcessingOutput; a Python step reading it downloads the file and"
        " the runtime parses it (conditions, container arguments and pipeline outputs cannot"
        " read it: they take JSON property files, and compile refuses them)",
    ),
    "training-step": Support(
        "mapped",
        "Training step; its first Output[Model] is model.tar.gz, its other outputs and returned"
        " values are written to output.tar.gz, which steps reading them unpack; its returned"
        " numbers and the Metrics entries the pipeline reads are also its metrics"
        " (MetricDefinitions), which conditions, container arguments and fail() messages read"
        " as 32-bit floats; text it returns is read by function steps only",
    ),
    "nested-pipeline": Support(
        "lowered",
        "inlined; step names prefixed with the step's name (one past 64 characters is shortened"
        " with a hash; the manifest's sagemaker.step_names maps each step)",
    ),
    "pipeline-outputs": Support("lowered", "recorded in the definition Metadata as expressions"),
    "artifacts": Support(
        "mapped", "job inputs/outputs under s3://<artifact store>/<pipeline>/runs/<execution id>/"
    ),
    "import-artifact": Support(
        "lowered",
        "no step: each job reading it takes the s3:// URI (or its parameter) as a ProcessingInput"
        " or training channel; a key gives the step that file, a prefix a folder",
    ),
    "condition": Support("mapped", "Condition step"),
    "else-branch": Support("mapped", "ElseSteps of the Condition step"),
    "compound-condition": Support(
        "lowered", "conditions list (and), Or and Not; And inside Or distributed"
    ),
    "metric-condition": Support(
        "mapped",
        "Std:JsonGet on a property file of the Metrics output; of a training step's, its final"
        " metric (FinalMetricDataList)",
    ),
    "fan-out-literal": Support(
        "lowered",
        "unrolled: one step per item, named <step>-<index> (shortened with a hash past 64"
        " characters)",
    ),
    "fan-out-parameter": Support(
        "refused",
        "SageMaker Pipelines cannot loop: the list is known only at run time; "
        "iterate over a literal list in the pipeline code instead",
    ),
    "fan-out-runtime": Support(
        "refused",
        "SageMaker Pipelines cannot loop over a value a step returns at run time; "
        "loop inside one step, or over a literal list",
    ),
    "parallelism-limit": Support(
        "lowered",
        "the smallest limit becomes the pipeline's ParallelismConfiguration at deploy time "
        "(it then limits the whole pipeline, not only the loop)",
    ),
    "fan-in": Support(
        "lowered",
        "one input per unrolled step (artifacts) or one value each (scalars); a container"
        " argument gets the list's JSON text, joined from each step's result as JSON (artifacts:"
        " the JSON list of their paths)",
    ),
    "merge": Support(
        "lowered",
        "every step reading the merged value, and every later step reading those (or a"
        " condition on them), is placed in both branches as <step>-if and <step>-else, each"
        " reading its branch's value; one step reading merges of two conditions is refused",
    ),
    "final-step": Support(
        "refused",
        "SageMaker Pipelines has no exit handler, so a step that must run whatever happened "
        "cannot be guaranteed; react to the execution status with an EventBridge rule instead",
    ),
    "final-status": Support(
        "refused", "SageMaker Pipelines has no exit handler, so no step receives the run's status"
    ),
    "fail": Support("mapped", "Fail step; the message built with Std:Join"),
    "register-model": Support(
        "mapped", "RegisterModel step (CreateModelPackage) in the profile's model package group"
    ),
    "model-approval-parameter": Support("mapped", "ModelApprovalStatus from the parameter"),
    "serving-image-parameter": Support(
        "mapped", "the model package container's Image from the parameter (Get Parameters)"
    ),
    "monitoring": Support(
        "lowered",
        "a Model Monitor data-quality schedule (built-in analyzer) on the endpoint's captured"
        " requests, hourly or daily; it compares each feature's distance (Kolmogorov-Smirnov for"
        " numbers) with the ks threshold; a baselining Processing step (the same analyzer) after"
        " the deploy step writes the baseline statistics and constraints to"
        " monitoring/<endpoint>/baseline/ in the artifact bucket",
    ),
    "drift-retrain": Support(
        "mapped",
        "a CloudWatch alarm on the drift metrics and an EventBridge rule that starts the"
        " pipeline execution with the parameters",
    ),
    "drift-alert": Support("mapped", "the drift alarm notifies the stack's alert topic"),
    "deploy-model": Support(
        "lowered",
        "Processing step whose runtime creates or updates the endpoint from the model package",
    ),
    "model-xgboost": Support(
        "mapped",
        "the AWS-managed XGBoost image (3.0-5 unless framework_version names another), in"
        " its script mode: the code bundle's handlers load the model.bst Model.save wrote,"
        " as the Booster or scikit-learn-API model it was",
    ),
    "model-lightgbm": Support(
        "refused",
        "AWS publishes no LightGBM framework image to serve it (LightGBM is a JumpStart"
        " built-in algorithm with its own packaging): give register_model(...,"
        " serving_image='<ECR image with lightgbm>'), or run on Kubeflow",
    ),
    "model-pytorch": Support(
        "refused",
        "the AWS PyTorch inference image reads a model's handlers from the code/ folder of a"
        " model.tar.gz, which a pipeline step's model output does not have: give"
        " register_model(..., serving_image='<ECR image>') that serves TorchScript",
    ),
    "deploy-pytorch": Support(
        "refused", "a PyTorch model cannot be registered here (the PyTorch model row says why)"
    ),
    "batch-predict": Support(
        "lowered",
        "Model step, then a Transform step; a model nothing registers is served by the image of"
        " batch_predict's framework= (or serving_image=), else of the pipeline's register_model"
        " of it, else refused; each input file is one request (up to 100 MB) to the serving"
        " handlers the code bundle carries (SAGEMAKER_PROGRAM: the scikit-learn image has no"
        " default model_fn), which read the data as every platform does",
    ),
    "retries": Support(
        "lowered",
        "RetryPolicies for service faults, throttling, job internal, capacity and resource "
        "limit errors; a failure of the step's own code is retried by the step side inside the"
        " same job (function steps; a container step's own failure is not retried), all"
        " attempts within the step's one MaxRuntimeInSeconds; more than 20 retries are capped"
        " at 20 (MaxAttempts' limit), with a warning",
    ),
    "retry-backoff": Support(
        "lowered",
        "IntervalSeconds and BackoffRate; IntervalSeconds is at least 1, so an unset backoff"
        " (an immediate retry elsewhere) waits 1 s; max backoff has no SageMaker equivalent",
    ),
    "cache-disabled": Support("mapped", "CacheConfig Enabled false"),
    "timeout": Support("mapped", "StoppingCondition MaxRuntimeInSeconds"),
    "resources": Support(
        "lowered",
        "an instance type from the table, or the profile's instance_types; cpu_limit and"
        " memory_limit are not used: a job has its whole instance, sized by the requests",
    ),
    "gpu": Support(
        "lowered",
        "a GPU instance type (any platform's spelling of the GPU) from the instance-type enum of"
        " the step's API (processing, training, transform or endpoint)",
    ),
    "env": Support("mapped", "job Environment"),
    "env-parameter": Support(
        "mapped", "job Environment from Get Parameters.<name> (Std:Join for a non-str one)"
    ),
    "container-env-parameter": Support(
        "mapped", "job Environment from Get Parameters.<name> (Std:Join for a non-str one)"
    ),
    "secrets": Support("mapped", "names passed to the runtime, read from AWS Secrets Manager"),
    "container-secrets": Support(
        "refused",
        "a container step runs its own command, not mlcompile's step side that reads Secrets"
        " Manager, and a job's environment cannot reference a secret: read the secret in the"
        " container's own code, or use a Python step",
    ),
    "secret-name-parameter": Support("mapped", "the name comes from the pipeline parameter"),
    "secret-name-output": Support(
        "refused",
        "the stack grants the pipeline's identity exactly the secrets it names, so a name known only when the run reaches the step cannot be granted: name it with a literal or a pipeline parameter with a default",
    ),
    "packages": Support("mapped", "pip-installed by the step before it runs"),
    "schedule": Support("lowered", "an EventBridge Scheduler schedule in the infra stack"),
    "after": Support("mapped", "DependsOn"),
    "hyperparameters": Support(
        "mapped",
        "the training job's HyperParameters (each value its text: JSON for numbers, lists and"
        " dicts; the step side reads hyperparameters.json); at most as many entries and as long"
        " keys and values as CreateTrainingJob takes, else refused (MLC406)",
    ),
    "input-content-type": Support(
        "mapped",
        "ContentType of the training job's input channel (inputdataconfig.json in the"
        " container); a Processing job's inputs have no content type, so there it is ignored",
    ),
    "image-entrypoint": Support(
        "mapped",
        "AlgorithmSpecification.TrainingImage with no ContainerEntrypoint (the image runs as"
        " SageMaker runs training images); the arguments, if any, as ContainerArguments",
    ),
    "model-instance-lists": Support(
        "mapped",
        "SupportedRealtimeInferenceInstanceTypes and SupportedTransformInstanceTypes of the"
        " model package, each checked against CreateModelPackage's enum",
    ),
    "platform-options": Support(
        "mapped",
        "sagemaker: instance_type, instance_count (container steps, batch transforms),"
        " volume_size_gb, arguments (merged into Arguments)",
    ),
    "image-parameter": Support(
        "mapped",
        "ImageUri (processing) or TrainingImage (training) from Get Parameters; which registry"
        " it names is the run's to get right (ECR only)",
    ),
    "platform-option-parameter": Support(
        "mapped",
        "instance_type from Get Parameters on every job and on the endpoint (the deploy step"
        " leaves out the volume key for a type with NVMe storage), and a container job's"
        " or batch transform's instance_count from an int parameter; other options take"
        " literals (MLC208)",
    ),
}
