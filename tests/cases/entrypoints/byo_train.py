"""A local stand-in for the entrypoint of the training image of tests/cases/training_inputs.py.

It takes the arguments the platform gives the image (``--data PATH --model PATH --epochs N``)
and writes the model as JSON. On SageMaker it runs in the job's /opt/ml stand-in and also checks
the job's hyperparameters file, which the emulator writes where the container contract puts it.
"""

import argparse
import json
import os
import sys


def main(argv: list) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--epochs", type=int, required=True)
    args = parser.parse_args(argv)
    config = os.path.join("input", "config", "hyperparameters.json")
    if os.path.isfile(config):  # SageMaker: the same value in the job's hyperparameters
        with open(config) as f:
            hyper = json.load(f)
        if hyper.get("epochs") != str(args.epochs):
            raise SystemExit(f"hyperparameters.json has epochs={hyper.get('epochs')!r}")
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
