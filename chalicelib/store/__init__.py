"""Every DynamoDB access of Chorus lives in this package; the rest calls it by intent."""
