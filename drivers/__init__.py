"""Adapters that carry out one real thing each, behind typed Protocols (``drivers.protocols``): Ansible
playbooks through ansible-runner, OpenStack through openstacksdk, Kubernetes through its client."""
