"""The store kit: one shop's knowledge in plain files (profile, FAQs, catalog), read, checked and imported."""
