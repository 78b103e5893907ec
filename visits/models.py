# Visits, visitors and authorisations arrive with the visit requests issue (R-REQ-*, R-AUTH-*).
