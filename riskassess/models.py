# Risk assessments arrive with the risk assessment issue (R-RA-*).
