"""Build tools: they generate committed files from the code and template.yaml (the OpenAPI document,
`make openapi`; the sample events in events/, `make events`). Never deployed, not part of `make run`."""
