"""Takedown notices: the signed documents (`documents`; the names of their regimes and actions in
`vocabulary`), the lifecycle (`lifecycle`), deadlines (`deadlines`), tables (`models`), the service
(`store`), exports (`exports`) and webhook delivery (`webhooks`)."""
