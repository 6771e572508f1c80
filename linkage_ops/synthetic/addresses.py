"""Synthetic Herefordshire-style geography: postcode areas, streets, postcodes and UPRNs.

Nothing here is a real address: street names are made from word lists, postcode units are
drawn at random inside the real outward codes (HR1-HR9) and UPRNs come from a 990... range
that no real property uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PostcodeArea:
    """An outward code and the town and villages it serves."""

    outward: str
    town: str
    posttown: str
    share: float
    villages: tuple[str, ...]


# Shares are of the county's households; villages give rural streets a locality.
POSTCODE_AREAS: tuple[PostcodeArea, ...] = (
    PostcodeArea("HR1", "Hereford", "HEREFORD", 0.15, ("Lugwardine", "Bartestree", "Withington")),
    PostcodeArea("HR2", "Hereford", "HEREFORD", 0.17, ("Kingstone", "Clehonger", "Madley")),
    PostcodeArea("HR3", "Hereford", "HEREFORD", 0.07, ("Weobley", "Eardisley", "Dorstone")),
    PostcodeArea("HR4", "Hereford", "HEREFORD", 0.14, ("Credenhill", "Burghill", "Canon Pyon")),
    PostcodeArea("HR5", "Kington", "KINGTON", 0.03, ("Lyonshall", "Titley", "Almeley")),
    PostcodeArea("HR6", "Leominster", "LEOMINSTER", 0.13, ("Pembridge", "Eardisland", "Luston")),
    PostcodeArea("HR7", "Bromyard", "BROMYARD", 0.05, ("Stoke Lacy", "Whitbourne", "Bredenbury")),
    PostcodeArea("HR8", "Ledbury", "LEDBURY", 0.10, ("Colwall", "Much Marcle", "Bosbury")),
    PostcodeArea("HR9", "Ross-on-Wye", "ROSS-ON-WYE", 0.12, ("Goodrich", "Bridstow", "Walford")),
)
ADMINISTRATIVE_AREA = "Herefordshire"

# Unit letters never include C, I, K, M, O or V.
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# Word lists read better as prose than as 130 one-word lines.
STREET_WORDS = (  # noqa: SIM905
    "Abbey Acorn Aylestone Barton Beech Belmont Berrington Birch Blackberry Bodenham Bridge "
    "Broad Brook Buttercup Canon Castle Cedar Chapel Cherry Chestnut Church Cider Clover College "
    "Common Coningsby Copse Croft Dale Dinedor Dingle Eign Elm Etnam Ferndale Field Folly Forge "
    "Foxglove Garrick Glebe Goldcrest Grange Green Greyfriars Hampton Harley Hawthorn Hazel "
    "Heather High Highmore Hill Holly Holme Hop Kilvert King Kyrle Lark Laurel Lime Linden Lugg "
    "Maple Market Marsh Meadow Merton Mill Moor Mortimer New Nightingale Oak Old Orchard Park "
    "Perrystone Pool Poplar Primrose Priory Quarry Queen Rectory Ridge River Rowan Ryelands "
    "School Sheep Silver Spring Station Stoney Swallow Sycamore Tanyard Tower Tudor Vicarage "
    "Victoria Wall Walnut Water Well Whitecross Willow Windsor Wood Wye Yew Yazor"
).split()
STREET_KINDS = (  # noqa: SIM905
    "Road Street Lane Close Avenue Way Drive Gardens Crescent Court Rise View Place Grove Walk "
    "Mews Terrace Meadow Fields Row"
).split()
HOUSE_NAMES = (
    "Rose Cottage",
    "The Cottage",
    "Orchard House",
    "The Old Rectory",
    "Yew Tree Cottage",
    "Ivy Cottage",
    "The Barn",
    "Holly Cottage",
    "Meadow View",
    "Hillside",
    "The Laurels",
    "Brook House",
    "The Old School",
    "Woodlands",
    "Stone House",
    "Oak Lodge",
    "The Granary",
    "The Hop Kiln",
    "Mill Cottage",
    "The Old Forge",
    "Church Cottage",
    "Keepers Cottage",
    "The Willows",
    "Fairview",
    "Pear Tree Cottage",
    "Lower House Farm",
    "The Coach House",
    "Sunnyside",
    "Greenacres",
    "Cider Mill Barn",
)
UPRN_BASE = 990_000_000_000
MAX_STREETS_PER_AREA = 1_500
HOUSEHOLDS_PER_STREET = 20


@dataclass(frozen=True, slots=True)
class Address:
    """One property, as the School Census ``addresses`` table describes it."""

    uprn: int
    saon: str
    paon: str
    street: str
    locality: str
    town: str
    posttown: str
    postcode: str
    outward: str
    administrative_area: str = ADMINISTRATIVE_AREA


class AddressBook:
    """Streets and postcodes per area, handing out each property at most once."""

    def __init__(self, rng: np.random.Generator, properties_needed: int) -> None:
        self._rng = rng
        self._areas = POSTCODE_AREAS
        shares = np.array([a.share for a in self._areas])
        self.area_probabilities = shares / shares.sum()
        self._streets: list[list[tuple[str, str, tuple[str, str]]]] = []
        self._free_slots: list[np.ndarray] = []
        self._next_slot: list[int] = []
        self._capacity: list[int] = []
        self._uprn_offset: list[int] = []
        offset = 0
        for area, probability in zip(self._areas, self.area_probabilities, strict=True):
            needed = math.ceil(properties_needed * probability * 1.3) + 10
            street_count = min(
                MAX_STREETS_PER_AREA, max(3, math.ceil(needed / HOUSEHOLDS_PER_STREET))
            )
            # About a quarter of the numbers on a street hold a family with children.
            capacity = max(60, math.ceil(4 * needed / street_count))
            self._streets.append(self._make_streets(area, street_count))
            self._capacity.append(capacity)
            self._free_slots.append(rng.permutation(street_count * capacity))
            self._next_slot.append(0)
            self._uprn_offset.append(offset)
            offset += street_count * capacity

    def _make_streets(
        self, area: PostcodeArea, count: int
    ) -> list[tuple[str, str, tuple[str, str]]]:
        combos = self._rng.choice(len(STREET_WORDS) * len(STREET_KINDS), count, replace=False)
        units = self._rng.choice(9 * len(UNIT_LETTERS) ** 2, 2 * count, replace=False)
        in_village = self._rng.random(count) < 0.4
        village_pick = self._rng.integers(0, len(area.villages), count)
        streets = []
        for i, combo in enumerate(combos):
            word, kind = divmod(int(combo), len(STREET_KINDS))
            name = f"{STREET_WORDS[word]} {STREET_KINDS[kind]}"
            locality = area.villages[village_pick[i]] if in_village[i] else ""
            # A long street spans two postcode units: low numbers and high numbers.
            postcodes = tuple(
                self._postcode(area.outward, int(u)) for u in units[2 * i : 2 * i + 2]
            )
            streets.append((name, locality, postcodes))
        return streets

    @staticmethod
    def _postcode(outward: str, unit: int) -> str:
        sector, letters = divmod(unit, len(UNIT_LETTERS) ** 2)
        first, second = divmod(letters, len(UNIT_LETTERS))
        return f"{outward} {sector + 1}{UNIT_LETTERS[first]}{UNIT_LETTERS[second]}"

    def draw_areas(self, size: int) -> np.ndarray:
        """Area indexes for ``size`` households, in proportion to the area shares."""
        return self._rng.choice(len(self._areas), size=size, p=self.area_probabilities)

    def take(self, area_index: int) -> Address:
        """An unused property in the area."""
        rng = self._rng
        position = self._next_slot[area_index]
        if position >= len(self._free_slots[area_index]):
            raise RuntimeError(f"no free addresses left in {self._areas[area_index].outward}")
        self._next_slot[area_index] = position + 1
        slot = int(self._free_slots[area_index][position])
        capacity = self._capacity[area_index]
        street_index, number_index = divmod(slot, capacity)
        number = number_index + 1
        name, locality, postcodes = self._streets[area_index][street_index]
        area = self._areas[area_index]
        postcode = postcodes[0] if number <= capacity // 2 else postcodes[1]
        draw = rng.random()
        saon, paon = "", str(number)
        if draw < 0.07:
            saon = f"Flat {int(rng.integers(1, 9))}"
        elif draw < (0.37 if locality else 0.12):
            # Country properties are often known by a name rather than a number.
            paon = HOUSE_NAMES[int(rng.integers(0, len(HOUSE_NAMES)))]
        uprn = UPRN_BASE + (self._uprn_offset[area_index] + slot) * 7 + int(rng.integers(0, 7))
        return Address(
            uprn=uprn,
            saon=saon,
            paon=paon,
            street=name,
            locality=locality,
            town=area.town,
            posttown=area.posttown,
            postcode=postcode,
            outward=area.outward,
        )

    @property
    def area_count(self) -> int:
        return len(self._areas)
