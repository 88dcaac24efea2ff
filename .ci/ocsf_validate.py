#!/usr/bin/env python3
"""Validates OCSF findings (one JSON object per line) against the OCSF JSON schema of their class.

Usage: ocsf_validate.py FILE...   (needs ocsf-json-schema and jsonschema; .ci/run installs them)
Checks each line against the class schema its class_uid names (OCSF 1.3.0, the version Mamori
writes) and that type_uid = class_uid * 100 + activity_id. Prints one line per problem and exits 1
if there is any; prints a summary line otherwise.
"""
import json
import sys

import jsonschema
from ocsf_json_schema import OcsfJsonSchema, OcsfJsonSchemaEmbedded, get_ocsf_schema

VERSION = "1.3.0"


def main(paths):
    schema = OcsfJsonSchemaEmbedded(OcsfJsonSchema(get_ocsf_schema(VERSION)))
    validators = {}
    problems = 0
    checked = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                event = json.loads(line)
                class_uid = event.get("class_uid")
                if class_uid not in validators:
                    name = schema.lookup_class_name_from_uid(class_uid)
                    validators[class_uid] = jsonschema.Draft202012Validator(schema.get_class_schema(name))
                for error in validators[class_uid].iter_errors(event):
                    problems += 1
                    where = "/".join(str(p) for p in error.absolute_path)
                    print(f"{path}:{number}: {where}: {error.message[:300]}")
                if event.get("type_uid") != class_uid * 100 + event.get("activity_id", -1):
                    problems += 1
                    print(f"{path}:{number}: type_uid {event.get('type_uid')} is not class_uid*100+activity_id")
                checked += 1
    if checked == 0:
        print("no finding to validate")
        return 1
    print(f"ocsf: {checked} findings checked against OCSF {VERSION}, {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
