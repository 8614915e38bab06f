"""The JSON Schema of the mail job accepts every valid fixture and rejects every invalid one."""
import json, pathlib, sys
import jsonschema

root = pathlib.Path(__file__).resolve().parent.parent / "mail-job"
schema = json.loads((root / "schema/mail-job.v1.schema.json").read_text())
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
passed = failed = 0
for path in sorted((root / "fixtures").rglob("*")):
    if not path.is_file():
        continue
    should_pass = path.parent.name != "invalid"
    try:
        errors = list(validator.iter_errors(json.loads(path.read_text())))
    except ValueError:
        errors = ["not JSON"]
    if (not errors) == should_pass:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {path.relative_to(root)}: expected {'valid' if should_pass else 'invalid'}, got {errors[:1]}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
