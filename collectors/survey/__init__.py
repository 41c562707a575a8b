"""Reading survey workbooks and CSV folders into checked rows, and importing them."""
