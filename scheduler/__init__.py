"""APScheduler jobs and the rebalancing, forecasting and admission algorithms they run. Not built yet."""
