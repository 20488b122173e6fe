"""A local stand-in for the entrypoint of the training image of tests/cases/training_inputs.py.

It takes the arguments the platform gives the image (``--data PATH --model PATH --epochs N``)
and writes the model as JSON. On SageMaker it runs in the job's /opt/ml stand-in, where the
emulator writes the job's config files as the container contract puts them; with
``BYO_TRAIN_RECORD`` set it also writes what it was given there (arguments, config files,
``AIP_MODEL_DIR``), for tests to check.
"""

import argparse
import json
import os
import sys


def _config(name: str) -> object:
    path = os.path.join("input", "config", name)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def main(argv: list) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--epochs", type=int, required=True)
    args = parser.parse_args(argv)
    record = os.environ.get("BYO_TRAIN_RECORD")
    if record:
        seen = {
            "argv": argv,
            "model": args.model,
            "hyperparameters": _config("hyperparameters.json"),
            "inputdataconfig": _config("inputdataconfig.json"),
            "AIP_MODEL_DIR": os.environ.get("AIP_MODEL_DIR"),
        }
        with open(record, "w") as f:
            json.dump(seen, f)
    data = args.data
    if os.path.isdir(data):
        data = os.path.join(data, sorted(os.listdir(data))[0])
    with open(data) as f:
        rows = sum(1 for line in f if line.strip())
    os.makedirs(os.path.dirname(args.model) or ".", exist_ok=True)
    with open(args.model, "w") as f:
        json.dump({"rows": rows, "epochs": args.epochs}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
