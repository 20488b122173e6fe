"""The google-cloud-pipeline-components (GCPC) 2.22 components mlcompile writes into Vertex specs.

Each entry is the component GCPC's own compiler writes (its interface without the documentation
strings, and its launcher executor), so the spec runs GCPC's launchers exactly as a pipeline built
with GCPC would, without importing GCPC (about 2 s) at compile time. A test recompiles the
components with the installed GCPC and compares them with this table.
"""

from __future__ import annotations

from typing import Any

GCPC_VERSION = "2.22.0"
IMAGE = f"gcr.io/ml-pipeline/google-cloud-pipeline-components:{GCPC_VERSION}"

#: Component key -> {"interface": inputDefinitions/outputDefinitions, "executor": ExecutorSpec}.
COMPONENTS: dict[str, dict[str, Any]] = {
    "custom_job": {
        "executor": {
            "container": {
                "args": [
                    "--type",
                    "CustomJob",
                    "--payload",
                    '{"display_name": '
                    "\"{{$.inputs.parameters['display_name']}}\", "
                    '"job_spec": {"worker_pool_specs": '
                    "{{$.inputs.parameters['worker_pool_specs']}}, "
                    '"scheduling": {"timeout": '
                    "\"{{$.inputs.parameters['timeout']}}\", "
                    '"restart_job_on_worker_restart": '
                    "{{$.inputs.parameters['restart_job_on_worker_restart']}}, "
                    '"strategy": '
                    "\"{{$.inputs.parameters['strategy']}}\", "
                    '"max_wait_duration": '
                    "\"{{$.inputs.parameters['max_wait_duration']}}\"}, "
                    '"service_account": '
                    "\"{{$.inputs.parameters['service_account']}}\", "
                    '"tensorboard": '
                    "\"{{$.inputs.parameters['tensorboard']}}\", "
                    '"enable_web_access": '
                    "{{$.inputs.parameters['enable_web_access']}}, "
                    '"network": '
                    "\"{{$.inputs.parameters['network']}}\", "
                    '"reserved_ip_ranges": '
                    "{{$.inputs.parameters['reserved_ip_ranges']}}, "
                    '"base_output_directory": '
                    '{"output_uri_prefix": '
                    "\"{{$.inputs.parameters['base_output_directory']}}\"}, "
                    '"persistent_resource_id": '
                    "\"{{$.inputs.parameters['persistent_resource_id']}}\", "
                    '"psc_interface_config": '
                    "{{$.inputs.parameters['psc_interface_config']}}}, "
                    '"labels": '
                    "{{$.inputs.parameters['labels']}}, "
                    '"encryption_spec": {"kms_key_name": '
                    "\"{{$.inputs.parameters['encryption_spec_key_name']}}\"}}",
                    "--project",
                    "{{$.inputs.parameters['project']}}",
                    "--location",
                    "{{$.inputs.parameters['location']}}",
                    "--gcp_resources",
                    "{{$.outputs.parameters['gcp_resources'].output_file}}",
                ],
                "command": [
                    "python3",
                    "-u",
                    "-m",
                    "google_cloud_pipeline_components.container.v1.custom_job.launcher",
                ],
                "image": IMAGE,
            }
        },
        "interface": {
            "inputDefinitions": {
                "parameters": {
                    "base_output_directory": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "display_name": {"parameterType": "STRING"},
                    "enable_web_access": {
                        "defaultValue": False,
                        "isOptional": True,
                        "parameterType": "BOOLEAN",
                    },
                    "encryption_spec_key_name": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "labels": {"defaultValue": {}, "isOptional": True, "parameterType": "STRUCT"},
                    "location": {
                        "defaultValue": "{{$.pipeline_google_cloud_location}}",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "max_wait_duration": {
                        "defaultValue": "86400s",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "network": {"defaultValue": "", "isOptional": True, "parameterType": "STRING"},
                    "persistent_resource_id": {
                        "defaultValue": "{{$.pipeline_persistent_resource_id}}",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "project": {
                        "defaultValue": "{{$.pipeline_google_cloud_project_id}}",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "psc_interface_config": {
                        "defaultValue": {},
                        "isOptional": True,
                        "parameterType": "STRUCT",
                    },
                    "reserved_ip_ranges": {
                        "defaultValue": [],
                        "isOptional": True,
                        "parameterType": "LIST",
                    },
                    "restart_job_on_worker_restart": {
                        "defaultValue": False,
                        "isOptional": True,
                        "parameterType": "BOOLEAN",
                    },
                    "service_account": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "strategy": {
                        "defaultValue": "STANDARD",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "tensorboard": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "timeout": {
                        "defaultValue": "604800s",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "worker_pool_specs": {
                        "defaultValue": [],
                        "isOptional": True,
                        "parameterType": "LIST",
                    },
                }
            },
            "outputDefinitions": {"parameters": {"gcp_resources": {"parameterType": "STRING"}}},
        },
    },
    "model_batch_predict": {
        "executor": {
            "container": {
                "args": [
                    "--type",
                    "BatchPredictionJob",
                    "--payload",
                    '{"Concat": ["{", '
                    '"\\"display_name\\": \\"", '
                    "\"{{$.inputs.parameters['job_display_name']}}\", "
                    '"\\", ", {"IfPresent": {"InputName": '
                    '"model", "Then": {"Concat": '
                    '["\\"model\\": \\"", '
                    "\"{{$.inputs.artifacts['model'].metadata['resourceName']}}\", "
                    '"\\","]}}}, " \\"input_config\\": '
                    '{", "\\"instances_format\\": \\"", '
                    "\"{{$.inputs.parameters['instances_format']}}\", "
                    '"\\"", ", \\"gcs_source\\": {", '
                    '"\\"uris\\":", '
                    "\"{{$.inputs.parameters['gcs_source_uris']}}\", "
                    '"}", ", \\"bigquery_source\\": {", '
                    '"\\"input_uri\\": \\"", '
                    "\"{{$.inputs.parameters['bigquery_source_input_uri']}}\", "
                    '"\\"", "}", "}", ", '
                    '\\"instance_config\\": {", '
                    '"\\"instance_type\\": \\"", '
                    "\"{{$.inputs.parameters['instance_type']}}\", "
                    '"\\"", ", \\"key_field\\": \\"", '
                    "\"{{$.inputs.parameters['key_field']}}\", "
                    '"\\" ", {"IfPresent": {"InputName": '
                    '"included_fields", "Then": '
                    '{"Concat": [", '
                    '\\"included_fields\\": ", '
                    "\"{{$.inputs.parameters['included_fields']}}\"]}}}, "
                    '{"IfPresent": {"InputName": '
                    '"excluded_fields", "Then": '
                    '{"Concat": [", '
                    '\\"excluded_fields\\": ", '
                    "\"{{$.inputs.parameters['excluded_fields']}}\"]}}}, "
                    '"}", ", \\"model_parameters\\": ", '
                    "\"{{$.inputs.parameters['model_parameters']}}\", "
                    '", \\"output_config\\": {", '
                    '"\\"predictions_format\\": \\"", '
                    "\"{{$.inputs.parameters['predictions_format']}}\", "
                    '"\\"", ", \\"gcs_destination\\": {", '
                    '"\\"output_uri_prefix\\": \\"", '
                    "\"{{$.inputs.parameters['gcs_destination_output_uri_prefix']}}\", "
                    '"\\"", "}", ", '
                    '\\"bigquery_destination\\": {", '
                    '"\\"output_uri\\": \\"", '
                    "\"{{$.inputs.parameters['bigquery_destination_output_uri']}}\", "
                    '"\\"", "}", "}", ", '
                    '\\"dedicated_resources\\": {", '
                    '"\\"machine_spec\\": {", '
                    '"\\"machine_type\\": \\"", '
                    "\"{{$.inputs.parameters['machine_type']}}\", "
                    '"\\"", ", \\"accelerator_type\\": '
                    '\\"", '
                    "\"{{$.inputs.parameters['accelerator_type']}}\", "
                    '"\\"", ", \\"accelerator_count\\": '
                    '", '
                    "\"{{$.inputs.parameters['accelerator_count']}}\", "
                    '"}", ", '
                    '\\"starting_replica_count\\": ", '
                    "\"{{$.inputs.parameters['starting_replica_count']}}\", "
                    '", \\"max_replica_count\\": ", '
                    "\"{{$.inputs.parameters['max_replica_count']}}\", "
                    '"}", ", \\"service_account\\": \\"", '
                    "\"{{$.inputs.parameters['service_account']}}\", "
                    '"\\"", ", '
                    '\\"manual_batch_tuning_parameters\\": '
                    '{", "\\"batch_size\\": ", '
                    "\"{{$.inputs.parameters['manual_batch_tuning_parameters_batch_size']}}\", "
                    '"}", ", \\"generate_explanation\\": '
                    '", '
                    "\"{{$.inputs.parameters['generate_explanation']}}\", "
                    '", \\"explanation_spec\\": {", '
                    '"\\"parameters\\": ", '
                    "\"{{$.inputs.parameters['explanation_parameters']}}\", "
                    '", \\"metadata\\": ", '
                    "\"{{$.inputs.parameters['explanation_metadata']}}\", "
                    '"}", ", \\"labels\\": ", '
                    "\"{{$.inputs.parameters['labels']}}\", "
                    '", \\"encryption_spec\\": '
                    '{\\"kms_key_name\\":\\"", '
                    "\"{{$.inputs.parameters['encryption_spec_key_name']}}\", "
                    '"\\"}", "}"]}',
                    "--project",
                    "{{$.inputs.parameters['project']}}",
                    "--location",
                    "{{$.inputs.parameters['location']}}",
                    "--gcp_resources",
                    "{{$.outputs.parameters['gcp_resources'].output_file}}",
                    "--executor_input",
                    "{{$}}",
                ],
                "command": [
                    "python3",
                    "-u",
                    "-m",
                    "google_cloud_pipeline_components.container.v1.batch_prediction_job.launcher",
                ],
                "image": IMAGE,
            }
        },
        "interface": {
            "inputDefinitions": {
                "artifacts": {
                    "model": {
                        "artifactType": {
                            "schemaTitle": "google.VertexModel",
                            "schemaVersion": "0.0.1",
                        },
                        "isOptional": True,
                    },
                    "unmanaged_container_model": {
                        "artifactType": {
                            "schemaTitle": "google.UnmanagedContainerModel",
                            "schemaVersion": "0.0.1",
                        },
                        "isOptional": True,
                    },
                },
                "parameters": {
                    "accelerator_count": {
                        "defaultValue": 0.0,
                        "isOptional": True,
                        "parameterType": "NUMBER_INTEGER",
                    },
                    "accelerator_type": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "bigquery_destination_output_uri": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "bigquery_source_input_uri": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "encryption_spec_key_name": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "excluded_fields": {
                        "defaultValue": [],
                        "isOptional": True,
                        "parameterType": "LIST",
                    },
                    "explanation_metadata": {
                        "defaultValue": {},
                        "isOptional": True,
                        "parameterType": "STRUCT",
                    },
                    "explanation_parameters": {
                        "defaultValue": {},
                        "isOptional": True,
                        "parameterType": "STRUCT",
                    },
                    "gcs_destination_output_uri_prefix": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "gcs_source_uris": {
                        "defaultValue": [],
                        "isOptional": True,
                        "parameterType": "LIST",
                    },
                    "generate_explanation": {
                        "defaultValue": False,
                        "isOptional": True,
                        "parameterType": "BOOLEAN",
                    },
                    "included_fields": {
                        "defaultValue": [],
                        "isOptional": True,
                        "parameterType": "LIST",
                    },
                    "instance_type": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "instances_format": {
                        "defaultValue": "jsonl",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "job_display_name": {"parameterType": "STRING"},
                    "key_field": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "labels": {"defaultValue": {}, "isOptional": True, "parameterType": "STRUCT"},
                    "location": {
                        "defaultValue": "us-central1",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "machine_type": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "manual_batch_tuning_parameters_batch_size": {
                        "defaultValue": 0.0,
                        "isOptional": True,
                        "parameterType": "NUMBER_INTEGER",
                    },
                    "max_replica_count": {
                        "defaultValue": 0.0,
                        "isOptional": True,
                        "parameterType": "NUMBER_INTEGER",
                    },
                    "model_parameters": {
                        "defaultValue": {},
                        "isOptional": True,
                        "parameterType": "STRUCT",
                    },
                    "predictions_format": {
                        "defaultValue": "jsonl",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "project": {
                        "defaultValue": "{{$.pipeline_google_cloud_project_id}}",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "service_account": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "starting_replica_count": {
                        "defaultValue": 0.0,
                        "isOptional": True,
                        "parameterType": "NUMBER_INTEGER",
                    },
                },
            },
            "outputDefinitions": {
                "artifacts": {
                    "batchpredictionjob": {
                        "artifactType": {
                            "schemaTitle": "google.VertexBatchPredictionJob",
                            "schemaVersion": "0.0.1",
                        }
                    },
                    "bigquery_output_table": {
                        "artifactType": {"schemaTitle": "google.BQTable", "schemaVersion": "0.0.1"}
                    },
                    "gcs_output_directory": {
                        "artifactType": {"schemaTitle": "system.Artifact", "schemaVersion": "0.0.1"}
                    },
                },
                "parameters": {"gcp_resources": {"parameterType": "STRING"}},
            },
        },
    },
    "model_deploy": {
        "executor": {
            "container": {
                "args": [
                    "--type",
                    "DeployModel",
                    "--payload",
                    '{"Concat": ["{", "\\"endpoint\\": \\"", '
                    "\"{{$.inputs.artifacts['endpoint'].metadata['resourceName']}}\", "
                    '"\\"", ", \\"traffic_split\\": ", '
                    "\"{{$.inputs.parameters['traffic_split']}}\", "
                    '", \\"deployed_model\\": {", "\\"model\\": '
                    '\\"", '
                    "\"{{$.inputs.artifacts['model'].metadata['resourceName']}}\", "
                    '"\\"", ", \\"dedicated_resources\\": {", '
                    '"\\"machine_spec\\": {", '
                    '"\\"machine_type\\": \\"", '
                    "\"{{$.inputs.parameters['dedicated_resources_machine_type']}}\", "
                    '"\\"", ", \\"accelerator_type\\": \\"", '
                    "\"{{$.inputs.parameters['dedicated_resources_accelerator_type']}}\", "
                    '"\\"", ", \\"accelerator_count\\": ", '
                    "\"{{$.inputs.parameters['dedicated_resources_accelerator_count']}}\", "
                    '"}", ", \\"min_replica_count\\": ", '
                    "\"{{$.inputs.parameters['dedicated_resources_min_replica_count']}}\", "
                    '", \\"max_replica_count\\": ", '
                    "\"{{$.inputs.parameters['dedicated_resources_max_replica_count']}}\", "
                    '"}", ", \\"automatic_resources\\": {", '
                    '"\\"min_replica_count\\": ", '
                    "\"{{$.inputs.parameters['automatic_resources_min_replica_count']}}\", "
                    '", \\"max_replica_count\\": ", '
                    "\"{{$.inputs.parameters['automatic_resources_max_replica_count']}}\", "
                    '"}", ", \\"service_account\\": \\"", '
                    "\"{{$.inputs.parameters['service_account']}}\", "
                    '"\\"", ", \\"disable_container_logging\\": '
                    '", '
                    "\"{{$.inputs.parameters['disable_container_logging']}}\", "
                    '", \\"enable_access_logging\\": ", '
                    "\"{{$.inputs.parameters['enable_access_logging']}}\", "
                    '", \\"explanation_spec\\": {", '
                    '"\\"parameters\\": ", '
                    "\"{{$.inputs.parameters['explanation_parameters']}}\", "
                    '", \\"metadata\\": ", '
                    "\"{{$.inputs.parameters['explanation_metadata']}}\", "
                    '"}", "}", "}"]}',
                    "--project",
                    "",
                    "--location",
                    "",
                    "--gcp_resources",
                    "{{$.outputs.parameters['gcp_resources'].output_file}}",
                ],
                "command": [
                    "python3",
                    "-u",
                    "-m",
                    "google_cloud_pipeline_components.container.v1.endpoint.deploy_model.launcher",
                ],
                "image": IMAGE,
            }
        },
        "interface": {
            "inputDefinitions": {
                "artifacts": {
                    "endpoint": {
                        "artifactType": {
                            "schemaTitle": "google.VertexEndpoint",
                            "schemaVersion": "0.0.1",
                        },
                        "isOptional": True,
                    },
                    "model": {
                        "artifactType": {
                            "schemaTitle": "google.VertexModel",
                            "schemaVersion": "0.0.1",
                        }
                    },
                },
                "parameters": {
                    "automatic_resources_max_replica_count": {
                        "defaultValue": 0.0,
                        "isOptional": True,
                        "parameterType": "NUMBER_INTEGER",
                    },
                    "automatic_resources_min_replica_count": {
                        "defaultValue": 0.0,
                        "isOptional": True,
                        "parameterType": "NUMBER_INTEGER",
                    },
                    "dedicated_resources_accelerator_count": {
                        "defaultValue": 0.0,
                        "isOptional": True,
                        "parameterType": "NUMBER_INTEGER",
                    },
                    "dedicated_resources_accelerator_type": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "dedicated_resources_machine_type": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "dedicated_resources_max_replica_count": {
                        "defaultValue": 0.0,
                        "isOptional": True,
                        "parameterType": "NUMBER_INTEGER",
                    },
                    "dedicated_resources_min_replica_count": {
                        "defaultValue": 0.0,
                        "isOptional": True,
                        "parameterType": "NUMBER_INTEGER",
                    },
                    "deployed_model_display_name": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "disable_container_logging": {
                        "defaultValue": False,
                        "isOptional": True,
                        "parameterType": "BOOLEAN",
                    },
                    "enable_access_logging": {
                        "defaultValue": False,
                        "isOptional": True,
                        "parameterType": "BOOLEAN",
                    },
                    "explanation_metadata": {
                        "defaultValue": {},
                        "isOptional": True,
                        "parameterType": "STRUCT",
                    },
                    "explanation_parameters": {
                        "defaultValue": {},
                        "isOptional": True,
                        "parameterType": "STRUCT",
                    },
                    "service_account": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "traffic_split": {
                        "defaultValue": {},
                        "isOptional": True,
                        "parameterType": "STRUCT",
                    },
                },
            },
            "outputDefinitions": {"parameters": {"gcp_resources": {"parameterType": "STRING"}}},
        },
    },
    "model_upload": {
        "executor": {
            "container": {
                "args": [
                    "--type",
                    "UploadModel",
                    "--payload",
                    '{"Concat": ["{", "\\"display_name\\": \\"", '
                    "\"{{$.inputs.parameters['display_name']}}\", "
                    '"\\"", ", \\"description\\": \\"", '
                    "\"{{$.inputs.parameters['description']}}\", "
                    '"\\"", ", \\"explanation_spec\\": {", '
                    '"\\"parameters\\": ", '
                    "\"{{$.inputs.parameters['explanation_parameters']}}\", "
                    '", \\"metadata\\": ", '
                    "\"{{$.inputs.parameters['explanation_metadata']}}\", "
                    '"}", ", \\"encryption_spec\\": '
                    '{\\"kms_key_name\\":\\"", '
                    "\"{{$.inputs.parameters['encryption_spec_key_name']}}\", "
                    '"\\"}", ", \\"version_aliases\\": ", '
                    "\"{{$.inputs.parameters['version_aliases']}}\", "
                    '", \\"labels\\": ", '
                    '"{{$.inputs.parameters[\'labels\']}}", ", '
                    '\\"pipeline_job\\": \\"", '
                    "\"projects/{{$.inputs.parameters['project']}}/locations/{{$.inputs.parameters['location']}}/pipelineJobs/{{$.pipeline_job_uuid}}\", "
                    '"\\"", "}"]}',
                    "--project",
                    "{{$.inputs.parameters['project']}}",
                    "--location",
                    "{{$.inputs.parameters['location']}}",
                    "--gcp_resources",
                    "{{$.outputs.parameters['gcp_resources'].output_file}}",
                    "--executor_input",
                    "{{$}}",
                    '{"IfPresent": {"InputName": "parent_model", '
                    '"Then": ["--parent_model_name", '
                    "\"{{$.inputs.artifacts['parent_model'].metadata['resourceName']}}\"]}}",
                ],
                "command": [
                    "python3",
                    "-u",
                    "-m",
                    "google_cloud_pipeline_components.container.v1.model.upload_model.launcher",
                ],
                "image": IMAGE,
            }
        },
        "interface": {
            "inputDefinitions": {
                "artifacts": {
                    "parent_model": {
                        "artifactType": {
                            "schemaTitle": "google.VertexModel",
                            "schemaVersion": "0.0.1",
                        },
                        "isOptional": True,
                    },
                    "unmanaged_container_model": {
                        "artifactType": {
                            "schemaTitle": "google.UnmanagedContainerModel",
                            "schemaVersion": "0.0.1",
                        },
                        "isOptional": True,
                    },
                },
                "parameters": {
                    # ModelUploadOp declares it; the payload above reads it.
                    "description": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "display_name": {"parameterType": "STRING"},
                    "encryption_spec_key_name": {
                        "defaultValue": "",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "explanation_metadata": {
                        "defaultValue": {},
                        "isOptional": True,
                        "parameterType": "STRUCT",
                    },
                    "explanation_parameters": {
                        "defaultValue": {},
                        "isOptional": True,
                        "parameterType": "STRUCT",
                    },
                    "labels": {"defaultValue": {}, "isOptional": True, "parameterType": "STRUCT"},
                    "location": {
                        "defaultValue": "us-central1",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "project": {
                        "defaultValue": "{{$.pipeline_google_cloud_project_id}}",
                        "isOptional": True,
                        "parameterType": "STRING",
                    },
                    "version_aliases": {
                        "defaultValue": [],
                        "isOptional": True,
                        "parameterType": "LIST",
                    },
                },
            },
            "outputDefinitions": {
                "artifacts": {
                    "model": {
                        "artifactType": {
                            "schemaTitle": "google.VertexModel",
                            "schemaVersion": "0.0.1",
                        }
                    }
                },
                "parameters": {"gcp_resources": {"parameterType": "STRING"}},
            },
        },
    },
}
