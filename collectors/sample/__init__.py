"""The generated sample estates (tiny, city, province, stress), written in the survey's formats."""
