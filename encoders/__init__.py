"""Text encoders and the demand model fitted on transactions (arrive with the demand-model issue)."""
