"""The synthetic authority: seeded children in households, written as the source files an
authority receives (School Census, GP registrations) plus a separate ground truth.

Only synthetic data, ever: names come from public name lists, NHS numbers from the never-issued
999 range, addresses from made-up streets.
"""

from linkage_ops.synthetic.authority import GenerationSummary, generate_authority

__all__ = ["GenerationSummary", "generate_authority"]
