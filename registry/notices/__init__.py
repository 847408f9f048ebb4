"""Takedown notices: the signed documents and regimes (`documents`), the lifecycle (`lifecycle`),
deadlines (`deadlines`), tables (`models`), the service (`store`), exports (`exports`) and webhook
delivery (`webhooks`)."""
