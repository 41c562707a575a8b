"""Writers: survey imports, cloud and cluster facts, Ansible host facts, agent reports and cloud samples
into the inventory, each with provenance and audit rows."""
