"""The Patients API domain: contract models, access policy, patients, gauges and the DynamoDB store."""
