"""Keeping the cloud balanced: the rebalancer and its goals, capacity forecasts, rooms to close, capacity
requests' admission, cloud collection, and the APScheduler jobs that run them."""
