"""PODs on AWS ECS Fargate: configs, estimates, deploy and the whole lifecycle.

- `gpubroker.pods.service.PodService` (``broker.pods``): plan, deploy, list, show, start,
  stop, destroy, logs, metrics, sync, costs;
- `gpubroker.pods.configs.PodConfigService` (``broker.pods.configs``): config drafts;
- `gpubroker.pods.ecs`: the ECS driver (boto3) and the exact requests it sends;
- `gpubroker.pods.fargate`, `gpubroker.pods.limits`, `gpubroker.pods.estimate`: pure rules
  and math (task sizes, provider and plan limits, budgets, costs);
- `gpubroker.pods.models`: the typed objects.
"""
