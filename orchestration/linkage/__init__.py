"""The linkage asset: person records -> person_key_bridge."""
