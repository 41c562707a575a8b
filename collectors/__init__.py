"""Getting facts in, as plain records and without database access: survey spreadsheets, the sample
estate, the psutil agent, Ansible fact gathering, and the OpenStack and Kubernetes collectors."""
