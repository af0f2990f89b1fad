"""gazportal: a self-service portal for the customers of gas, water and electricity utilities."""
