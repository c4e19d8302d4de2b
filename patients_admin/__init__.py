"""`patients-admin`, the operators' command line: clinics, users, tokens, care teams, summaries and the
audit trail, against a deployed stack (`--stack`) or a running `make run`."""
