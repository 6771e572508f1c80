"""A second, independent generator of synthetic person records: a test bed for record linkage.

The synthetic authority (the rest of this package) is the data the linkage engine was tuned on.
This module shares nothing with it (its own name pools, addresses, sources and error model) so
that the engine can be checked on data it has never seen. Differences that matter:

* names are a multinational mix with spelling variants that are not typos (Mohammed/Muhammad,
  Siobhan/Shivaun, Chen/Chan, Chowdhury/Chaudhry), drawn with a Zipf-like skew;
* postcodes are not UK-shaped (US ZIP and ZIP+4, Dutch, Canadian, Irish Eircode, plain numbers,
  free text such as ``BOX 12``);
* every record draws a number of corruptions (preset ``heavy``: about two on average) applied to
  distinct fields: keyboard and OCR typos, transpositions, dropped and doubled letters,
  truncation, case/space/punctuation noise, blanks, reordered names, surname changes, date
  slips, old or mistyped postcodes, a wrong sex.

Each record keeps its true person (``truth``) and the corruptions applied to it (``errors``,
``field:kind`` separated by ``;``). ``generate_dataset`` also returns the people behind the
records (household, twin, addresses) for tests and diagnosis.

Command line::

    python -m linkage_ops.synthetic.independent_people --people 5000 --seed 1 \\
        --preset heavy --out /tmp/people.csv [--identifiers] [--people-out /tmp/truth.csv]
"""

from __future__ import annotations

import argparse
import itertools
import random
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from linkage_ops.identifiers import nhs_check_digit
from linkage_ops.linkage.standardise import PERSON_RECORD_COLUMNS

# The project's person-record shape, plus the truth and the corruptions applied.
RECORD_COLUMNS = PERSON_RECORD_COLUMNS
OUTPUT_COLUMNS = [*RECORD_COLUMNS, "truth", "errors"]

PEOPLE_COLUMNS = [
    "truth",
    "household",
    "origin",
    "first_name",
    "middle_names",
    "last_name",
    "date_of_birth",
    "sex",
    "postcodes",
    "twin_of",
    "alternative_surname",
    "nhs_number",
]

BIRTH_YEARS = (2006, 2023)  # an 18-year span of children and young people
# A mistyped date of birth is still a date a system would accept (no births in the future).
_PLAUSIBLE_YEARS = (BIRTH_YEARS[0] - 15, BIRTH_YEARS[1] + 2)

# ---------------------------------------------------------------------------------------------
# Name pools, commonest first within each list (the order sets the Zipf-like frequency).
# ---------------------------------------------------------------------------------------------

_POOLS: dict[str, dict[str, str]] = {
    "british": {
        "F": "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Grace Freya Ella Ellie Evie "
        "Poppy Florence Charlotte Willow Daisy Sienna Phoebe Millie Harper Emily Ruby Isabelle "
        "Isobel Isabel Sophie Sofie Leah Lea Zoe Zoey Katie Chloe Megan Jessica Holly Lacey",
        "M": "Oliver George Noah Arthur Leo Harry Oscar Archie Jack Henry Charlie Freddie Theo "
        "Jacob Alfie Thomas William James Joshua Alexander Jayden Jaden Jaiden Aiden Aidan "
        "Stephen Steven Tyler Riley Lewis Callum Kai Mason Reggie Ethan Harvey",
        "last": "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright "
        "Thompson Thomson Evans Walker White Roberts Green Hall Wood Jackson Clarke Clark "
        "Hughes Edwards Turner Hill Cooper Ward Harris Marshall Atkinson MacDonald McDonald "
        "Smyth Fletcher Pearson Holmes Barker Ashworth Pickering",
    },
    "irish": {
        "F": "Aoife Niamh Neve Siobhan Siobhán Shivaun Chevonne Saoirse Seersha Caoimhe Keeva "
        "Ciara Sinead Shinead Roisin Orla Clodagh Grainne Eabha Aisling Mairead Fiadh Ailbhe",
        "M": "Sean Seán Shaun Shawn Conor Connor Cian Oisin Darragh Padraig Eoin Ciaran Tadhg "
        "Ruairi Rory Fionn Cathal Donal Diarmuid Colm",
        "last": "Murphy Kelly O'Sullivan Walsh O'Brien OBrien Byrne Ryan O'Connor O'Neill "
        "Doyle McCarthy Gallagher O'Doherty Kennedy Lynch Murray Quinn McLaughlin Brennan "
        "Ó_Súilleabháin Mac_Giolla_Bhríde Nic_Aodha",
    },
    "polish": {
        "F": "Zofia Zuzanna Hanna Julia Maja Maia Lena Alicja Aleksandra Natalia Oliwia "
        "Wiktoria Katarzyna Agnieszka Małgorzata Magdalena Weronika Kinga Jana",
        "M": "Jakub Jan Antoni Szymon Filip Kacper Mateusz Łukasz Lukasz Wojciech Piotr Michał "
        "Michal Aleksander Krzysztof Tomasz Bartosz Dawid Paweł Pawel",
        "last": "Nowak Novak Kowalski Wiśniewski Wisniewski Wójcik Wojcik Kowalczyk Kamiński "
        "Kaminski Lewandowski Zieliński Szymański Woźniak Dąbrowski Kozłowski Jankowski Mazur "
        "Krawczyk Grabowski Pawlak Michalski Król Wieczorek Jabłoński Szczepański",
    },
    "romanian": {
        "F": "Maria Ioana Andreea Elena Alexandra Bianca Ana Daria Sofia Antonia Gabriela "
        "Cristina Denisa Larisa Teodora Raluca Ștefania Mihaela",
        "M": "Alexandru Ștefan Stefan Ionuț Ionut Mihai David Gabriel Luca Matei Darius Rareș "
        "Rares Cristian Florin Vlad Bogdan Nicolae",
        "last": "Popescu Popa Pop Radu Ionescu Dumitru Stoica Stan Gheorghe Matei Munteanu "
        "Constantin Ciobanu Rusu Lungu Moldovan Marin Tudor Dinu Niculescu Oprea Florea Sârbu "
        "Sarbu",
    },
    "somali": {
        "F": "Hodan Fadumo Fartun Ayaan Amina Aamina Hibaaq Sagal Nimco Ifrah Ubah Khadra Ladan "
        "Hamdi Iman Sumaya Sumaiya Deeqa Faiza Ikran",
        "M": "Mohamed Mohammed Abdirahman Abdurahman Abdullahi Abdi Ahmed Hassan Liban Guled "
        "Mahad Yusuf Abdikarim Omar Ismail Bashir Farah Hamza Khalid Mukhtar",
        "last": "Mohamed Ali Hassan Abdi Ahmed Farah Hussein Omar Warsame Jama Osman Yusuf "
        "Ismail Egal Nur Nuur Abdullahi Aden Adan Duale Hersi Mohamud Elmi Samatar",
    },
    "pakistani": {
        "F": "Ayesha Aisha Aysha Fatima Fatimah Maryam Mariam Zainab Zaynab Hafsa Hafsah "
        "Khadija Khadijah Amna Iqra Anaya Hira Sana Mahnoor Alishba Eman Inaya Noor",
        "M": "Muhammad Mohammed Mohammad Muhammed Ali Ibrahim Ebrahim Yusuf Yousuf Hamza Zain "
        "Ayaan Rayyan Rayan Usman Osman Bilal Hassan Haris Arham Abdullah Zakariya Zakaria Umar "
        "Omar Saad Talha",
        "last": "Khan Hussain Hussein Husain Ahmed Ahmad Ali Shah Iqbal Akhtar Butt Mahmood "
        "Mehmood Bibi Rehman Rahman Malik Riaz Aslam Raza Qureshi Javed Chaudhry Chaudhary Anwar "
        "Akram Mirza",
    },
    "bangladeshi": {
        "F": "Tasnim Tasneem Nusrat Sumaiya Sadia Sabrina Farzana Jannat Rumana Tahmina Afia "
        "Raisa Ruqayyah Ruqaiya Maliha Fariha Mim Nafisa Shirin Taslima",
        "M": "Mohammed Muhammad Abdul Rahim Arif Shahid Tanvir Rafiq Sabbir Imran Nayeem Naim "
        "Rayhan Raihan Sakib Shakib Tamim Zubair Mahir Ayaan Ishaq Ishak",
        "last": "Begum Uddin Miah Mia Ahmed Islam Rahman Chowdhury Choudhury Hoque Haque "
        "Hossain Hussain Khatun Ali Alam Sarkar Das Roy Akter Akhter Bhuiyan Talukder Sultana "
        "Karim",
    },
    "nigerian": {
        "F": "Chiamaka Chioma Adaeze Ngozi Ifeoma Amarachi Chidera Zainab Temitope Titilayo "
        "Folake Funmilayo Damilola Precious Blessing Favour Esther Kemi Yetunde Eniola Ayomide "
        "Oluwaseun Oluwatobi",
        "M": "Chinedu Emeka Chukwuemeka Obinna Ikenna Chidi Tunde Babatunde Olumide Oluwaseun "
        "Oluwatobi Tobi Adebayo Ayodele Segun David Daniel Samuel Emmanuel Victor Uche Kelechi "
        "Musa Yakubu",
        "last": "Okafor Okonkwo Eze Nwosu Adeyemi Adebayo Ogunleye Oyelaran Ibrahim Bello "
        "Abubakar Musa Olawale Okoro Obi Nwachukwu Afolabi Balogun Oladipo Chukwu Uzor Akinola "
        "Onyeka Ogbu Adeleke Oyebanji",
    },
    "portuguese": {
        "F": "Maria Beatriz Matilde Leonor Carolina Mariana Inês Ines Ana Francisca Sofia Lara "
        "Margarida Rita Joana Laura Constança Constanca Alice Benedita",
        "M": "João Joao Francisco Santiago Tomás Tomas Rodrigo Martim Afonso Duarte Lourenço "
        "Lourenco Gonçalo Goncalo Miguel Gabriel Pedro Diogo Tiago Guilherme Rafael Vicente",
        "last": "Silva da_Silva Santos dos_Santos Ferreira Pereira Oliveira Costa Rodrigues "
        "Martins Jesus de_Jesus Sousa Souza Fernandes Gonçalves Goncalves Gomes Lopes Marques "
        "Alves Almeida Ribeiro Pinto Carvalho Teixeira Moreira",
    },
    "chinese": {
        "F": "Xinyi Yuxuan Zixuan Zi_Xuan Yutong Xinyue Yiting Mei Ling Hui_Min Jiayi Wing_Yan "
        "Ka_Yan Yan_Ting Shu_Fen Xiaoyu Ruoxi Qian Yan",
        "M": "Wei Hao Haoran Hao_Ran Yichen Zihan Junjie Jun_Jie Yuhang Zhiwei Chi_Wing Ka_Ho "
        "Ka_Lok Wing_Hong Jiahao Bo Ming Tian Zhen",
        "last": "Wang Wong Li Lee Zhang Cheung Chan Chen Liu Lau Yang Yeung Huang Zhao Chiu Wu "
        "Ng Zhou Chow Xu Tsui Sun Ma Zhu Chu Lin Lam He Ho Guo Kwok Luo Law",
    },
    "arabic": {
        "F": "Fatima Fatma Mariam Maryam Nour Noor Layla Leila Laila Yasmin Yasmine Jasmine "
        "Salma Hala Rania Reem Rim Lina Lama Dana Jana Sara Sarah Huda Amal Jood Rahaf Amira",
        "M": "Mohammed Mohamed Mohammad Mohamad Ahmad Ahmed Omar Umar Youssef Yousef Yusuf Ali "
        "Hussein Khaled Khalid Abdullah Abdallah Ibrahim Hamza Kareem Karim Tariq Tarek Amir "
        "Zaid Zayd Mustafa Mostafa",
        "last": "Al-Hassan Al_Hassan Alhassan Haddad Khalil Saleh Salih Nasser Abdullah "
        "Abdallah Mansour Mansur Ibrahim Hamdan Al-Sayed El-Sayed Elsayed Youssef Darwish "
        "Khoury Al-Masri Masri Aziz Barakat Hammoud Suleiman Sulaiman Qasim Kassem",
    },
}

# The listed surnames are each origin's commonest. Most people carry a rarer one: in England and
# Wales the 40 commonest surnames cover about an eighth of people (Smith alone about 1.3%), so a
# population drawn from 40 names would have dozens of namesakes per birthday where a real one has
# none. The rest of each origin's surnames are composed from its name elements: a long tail.
# Origins whose surnames are genuinely concentrated (Chinese, or patronymic) keep their lists.
_SURNAME_TAIL_SHARE = {
    "british": 0.85,
    "irish": 0.6,
    "polish": 0.7,
    "romanian": 0.6,
    "somali": 0.0,
    "pakistani": 0.2,
    "bangladeshi": 0.2,
    "nigerian": 0.6,
    "portuguese": 0.5,
    "chinese": 0.0,
    "arabic": 0.3,
}
_SURNAME_ELEMENTS: dict[str, tuple[str, str]] = {
    # origin: (stems, endings or prefixes); no endings: the stems are whole names.
    "british": (
        "Ash Black Brad Bright Brook Brom Cald Carl Chad Chester Cole Crans Dal Den Dun Ely Fair "
        "Farn Ford Gold Grant Green Hal Hart Haw Hay Hed Holl Kings Lang Lind Marl Mid Mil New "
        "Nor Oak Ped Rad Rams Red Rock Roth Rush Sel Shel Stan Stock Ther Thorn Wake Wal War Wed "
        "Wel Went West Whit Wil Wind Wool Sut Pres Bur Hors Mor",
        "ley ton worth field wood ford by ham well more den stone bridge combe dale hurst shaw "
        "wick low ridge",
    ),
    "irish": (
        "Brien Connell Donnell Dowd Driscoll Dwyer Farrell Flaherty Gorman Hara Keeffe Leary "
        "Mahony Malley Rourke Shea Toole Grath Namara Kenna Guinness Gowan Dermott Cann Keown "
        "Sweeney Loughlin Hale Carthy Callan Garry Nally Gillan Kiernan Cormack",
        "O' Mc Mac",
    ),
    "polish": (
        "Adam Bara Bor Chmiel Dud Gór Jasin Kacz Kos Krup Lis Maj Mar Ostrow Pietrz Rut Sad Sob "
        "Stas Tom Urban Wal Wit Zaj Żuk Bogdan Cies Dom Gaj Kub Sikor Wrob Czarn Bial",
        "ski czyk owski ewicz ak ek ka",
    ),
    "romanian": (
        "Vas Dobr Petr Mih Ghe Nic Andr Bad Cost Drag Ion Man Mar Pav Sim Stef Tom Vlad Zah "
        "Barb Cazac Enach Grig Lup Mocan Neg Olt Preda Sav Tanas",
        "escu eanu aru ache uta",
    ),
    "nigerian": (
        "Ade Ola Olu Oyin Ayo Aki Baba Chi Nnam Oko Ugo Obi Ike Eze Ona Adu Ogun Ifeanyi Nwa Ama",
        "yemi wale tunde bayo kunle nna ke gwu di oma chukwu nde lade nuga sola",
    ),
    "pakistani": ("Abbasi Bhatti Cheema Gill Hashmi Kayani Sheikh Siddiqui Warraich", ""),
    "bangladeshi": ("Sikder Mollah Munshi Patwary Majumder Khandaker Biswas Mondal", ""),
    "arabic": ("Al-Amin Al-Rashid Al-Najjar Al-Tamimi Al-Zahrani Ghanem Jaber Nassar", ""),
}


def _compose(stems: list[str], endings: list[str]) -> list[str]:
    if not endings:  # whole names
        return stems
    if all(e[0].isupper() for e in endings):  # prefixes: O'Brien, McNamara
        return [e + s for s in stems for e in endings]
    return [s + e for s in stems for e in endings]


def _portuguese_tail() -> list[str]:
    """Two family names, as Portuguese and Brazilian families carry them (Silva Santos)."""
    listed = [n for n in _words(_POOLS["portuguese"]["last"]) if " " not in n]
    return [f"{a} {b}" for a, b in itertools.permutations(listed, 2)]


# Share of households of each origin, and of children with a middle name in each origin.
_ORIGIN_SHARES = {
    "british": 0.36,
    "irish": 0.06,
    "polish": 0.08,
    "romanian": 0.05,
    "somali": 0.05,
    "pakistani": 0.10,
    "bangladeshi": 0.07,
    "nigerian": 0.07,
    "portuguese": 0.05,
    "chinese": 0.05,
    "arabic": 0.06,
}
_MIDDLE_NAME_SHARE = {
    "british": 0.55,
    "irish": 0.45,
    "polish": 0.3,
    "romanian": 0.35,
    "somali": 0.8,  # the father's name, shared by the siblings
    "pakistani": 0.3,
    "bangladeshi": 0.35,
    "nigerian": 0.6,
    "portuguese": 0.7,
    "chinese": 0.1,
    "arabic": 0.6,  # the father's name, shared by the siblings
}
_FATHERS_NAME_AS_MIDDLE = {"somali", "arabic"}
_ZIPF_EXPONENT = 1.0

# One name, several spellings: none is a typo of another. A record may use another spelling.
_FIRST_NAME_VARIANTS = [
    "Mohammed Muhammad Mohamed Mohammad Muhammed Mohamad",
    "Aleksandra Alexandra",
    "Aleksander Alexander Alexandru",
    "Siobhan Siobhán Shivaun Chevonne",
    "Niamh Neve",
    "Saoirse Seersha",
    "Caoimhe Keeva",
    "Sinead Shinead",
    "Sean Seán Shaun Shawn",
    "Conor Connor",
    "Aisha Ayesha Aysha",
    "Fatima Fatimah Fatma",
    "Maryam Mariam",
    "Zainab Zaynab",
    "Hafsa Hafsah",
    "Khadija Khadijah",
    "Yusuf Yousuf Yousef Youssef",
    "Ibrahim Ebrahim",
    "Umar Omar",
    "Zakariya Zakaria",
    "Usman Osman",
    "Khalid Khaled",
    "Kareem Karim",
    "Tariq Tarek",
    "Zaid Zayd",
    "Mustafa Mostafa",
    "Abdullah Abdallah",
    "Abdirahman Abdurahman",
    "Amina Aamina",
    "Sumaya Sumaiya",
    "Tasnim Tasneem",
    "Nayeem Naim",
    "Rayhan Raihan",
    "Rayyan Rayan",
    "Sakib Shakib",
    "Ishaq Ishak",
    "Ruqayyah Ruqaiya",
    "Nour Noor",
    "Layla Leila Laila",
    "Yasmin Yasmine Jasmine",
    "Sara Sarah",
    "Reem Rim",
    "Łukasz Lukasz",
    "Michał Michal",
    "Paweł Pawel",
    "Maja Maia Maya",
    "Zofia Sofia Sophia",
    "Ștefan Stefan",
    "Ionuț Ionut",
    "Rareș Rares",
    "João Joao",
    "Inês Ines",
    "Tomás Tomas",
    "Lourenço Lourenco",
    "Gonçalo Goncalo",
    "Constança Constanca",
    "Zixuan Zi_Xuan",
    "Haoran Hao_Ran",
    "Junjie Jun_Jie",
    "Isabelle Isobel Isabel",
    "Leah Lea",
    "Zoe Zoey",
    "Jayden Jaden Jaiden",
    "Aiden Aidan",
    "Stephen Steven",
    "Sophie Sofie",
]
_SURNAME_VARIANTS = [
    "Chowdhury Choudhury Chaudhry Chaudhary",
    "Ahmed Ahmad",
    "Hussain Hussein Husain Hossain",
    "Mohamed Mohammed",
    "Nowak Novak",
    "Wiśniewski Wisniewski",
    "Wójcik Wojcik",
    "Kamiński Kaminski",
    "Sârbu Sarbu",
    "O'Brien OBrien O_Brien",
    "MacDonald McDonald",
    "Smith Smyth",
    "Thompson Thomson",
    "Clarke Clark",
    "Wang Wong",
    "Li Lee",
    "Chen Chan",
    "Zhang Cheung",
    "Liu Lau",
    "Yang Yeung",
    "Zhou Chow",
    "Zhao Chiu",
    "Xu Tsui",
    "Zhu Chu",
    "Lin Lam",
    "He Ho",
    "Guo Kwok",
    "Luo Law",
    "Wu Ng",
    "Silva da_Silva",
    "Santos dos_Santos",
    "Jesus de_Jesus",
    "Sousa Souza",
    "Gonçalves Goncalves",
    "Al-Hassan Al_Hassan Alhassan",
    "Saleh Salih",
    "Abdullah Abdallah",
    "Mansour Mansur",
    "Al-Sayed El-Sayed Elsayed",
    "Al-Masri Masri",
    "Suleiman Sulaiman",
    "Qasim Kassem",
    "Nur Nuur",
    "Aden Adan",
    "Miah Mia",
    "Hoque Haque",
    "Akter Akhter",
    "Mahmood Mehmood",
    "Rehman Rahman",
]

# Twins: similar names ("Ella"/"Ellie"), with each twin's sex, and the origin they suit.
_SIMILAR_TWIN_NAMES = [
    ("british", "Ella", "F", "Ellie", "F"),
    ("british", "Harry", "M", "Harvey", "M"),
    ("british", "Oliver", "M", "Olivia", "F"),
    ("british", "Isla", "F", "Isabella", "F"),
    ("british", "Alfie", "M", "Archie", "M"),
    ("irish", "Aoife", "F", "Aisling", "F"),
    ("irish", "Cian", "M", "Ciara", "F"),
    ("polish", "Jan", "M", "Jana", "F"),
    ("polish", "Lena", "F", "Hanna", "F"),
    ("romanian", "Mihai", "M", "Mihaela", "F"),
    ("somali", "Hassan", "M", "Hussein", "M"),
    ("pakistani", "Zain", "M", "Zainab", "F"),
    ("pakistani", "Rayyan", "M", "Rayan", "M"),
    ("bangladeshi", "Rahim", "M", "Rahima", "F"),
    ("nigerian", "Chidi", "M", "Chidera", "F"),
    ("nigerian", "Taiwo", "M", "Kehinde", "M"),
    ("portuguese", "Tiago", "M", "Diogo", "M"),
    ("chinese", "Ka_Ho", "M", "Ka_Lok", "M"),
    ("arabic", "Amir", "M", "Amira", "F"),
    ("arabic", "Lina", "F", "Lama", "F"),
]


def _words(text: str) -> list[str]:
    """Split a pool; ``_`` stands for a space inside one name (``Zi_Xuan`` is "Zi Xuan")."""
    return [word.replace("_", " ") for word in text.split()]


def _variant_lookup(groups: Sequence[str]) -> dict[str, list[str]]:
    """Each spelling (case-folded) -> all the spellings of its name."""
    lookup: dict[str, list[str]] = {}
    for group in groups:
        spellings = _words(group)
        for spelling in spellings:
            lookup[spelling.casefold()] = spellings
    return lookup


FIRST_NAME_VARIANTS = _variant_lookup(_FIRST_NAME_VARIANTS)
SURNAME_VARIANTS = _variant_lookup(_SURNAME_VARIANTS)


@dataclass(frozen=True)
class _Pool:
    names: list[str]
    cum_weights: list[float]

    @classmethod
    def of(cls, names: list[str]) -> _Pool:
        weights = 1.0 / np.arange(1, len(names) + 1) ** _ZIPF_EXPONENT
        return cls(names, np.cumsum(weights).tolist())

    def draw(self, pyr: random.Random) -> str:
        return pyr.choices(self.names, cum_weights=self.cum_weights)[0]


_NAME_POOLS = {
    origin: {part: _Pool.of(_words(text)) for part, text in parts.items()}
    for origin, parts in _POOLS.items()
}


_SURNAME_TAILS = {
    origin: (
        _portuguese_tail()
        if origin == "portuguese"
        else _compose(*(_words(text) for text in _SURNAME_ELEMENTS.get(origin, ("", ""))))
    )
    for origin in _POOLS
}


def _surname(origin: str, pyr: random.Random) -> str:
    """A household's surname: one of the origin's commonest, or one from its long tail."""
    tail = _SURNAME_TAILS[origin]
    if tail and pyr.random() < _SURNAME_TAIL_SHARE[origin]:
        return pyr.choice(tail)
    return _NAME_POOLS[origin]["last"].draw(pyr)


def name_pool_sizes() -> tuple[int, int]:
    """The number of distinct first names and surnames in the pools."""
    first = {n for parts in _NAME_POOLS.values() for s in "FM" for n in parts[s].names}
    last = {n for parts in _NAME_POOLS.values() for n in parts["last"].names}
    return len(first), len(last)


# ---------------------------------------------------------------------------------------------
# Addresses: postcodes of several non-UK shapes.
# ---------------------------------------------------------------------------------------------

_CANADA_FIRST = "ABCEGHJKLMNPRSTVXY"
_CANADA_OTHER = "ABCEGHJKLMNPRSTVWXYZ"
_EIRCODE_CHARS = "ACDEFHKNPRTVWXY0123456789"
_DUTCH_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
_FREE_TEXT = ["BOX {n}", "PO BOX {n}", "RR {n}", "KM {n}", "LOT {n}", "APARTADO {n}"]


def _zip5(r: random.Random) -> str:
    return f"{r.randint(501, 99950):05d}"


def _postcode(shape: str, r: random.Random) -> str:
    if shape == "zip":
        return _zip5(r)
    if shape == "zip4":
        return f"{_zip5(r)}-{r.randint(1, 9999):04d}"
    if shape == "dutch":
        return f"{r.randint(1000, 9999)} {r.choice(_DUTCH_LETTERS)}{r.choice(_DUTCH_LETTERS)}"
    if shape == "canadian":
        c = r.choice
        return f"{c(_CANADA_FIRST)}{r.randint(0, 9)}{c(_CANADA_OTHER)} {r.randint(0, 9)}" + (
            f"{c(_CANADA_OTHER)}{r.randint(0, 9)}"
        )
    if shape == "eircode":
        routing = r.choice(["D", "A", "T", "H", "F", "V", "Y"]) + f"{r.randint(1, 99):02d}"
        if r.random() < 0.03:
            routing = "D6W"
        return routing + " " + "".join(r.choice(_EIRCODE_CHARS) for _ in range(4))
    if shape == "number":
        return str(r.randint(200, 9999) if r.random() < 0.8 else r.randint(100000, 999999))
    return r.choice(_FREE_TEXT).format(n=r.randint(1, 400))


_POSTCODE_SHAPES = {
    "zip": 0.26,
    "zip4": 0.10,
    "dutch": 0.15,
    "canadian": 0.15,
    "eircode": 0.14,
    "number": 0.12,
    "free_text": 0.08,
}


def _new_postcode(previous_shape: str | None, r: random.Random) -> tuple[str, str]:
    """A postcode and its shape; a move usually stays in the same country."""
    if previous_shape is not None and r.random() < 0.75:
        shape = previous_shape
    else:
        shape = r.choices(list(_POSTCODE_SHAPES), weights=list(_POSTCODE_SHAPES.values()))[0]
    return _postcode(shape, r), shape


# ---------------------------------------------------------------------------------------------
# The population: households of children.
# ---------------------------------------------------------------------------------------------


@dataclass
class _Person:
    truth: str
    household: str
    origin: str
    first_name: str
    middle_names: str
    last_name: str
    sex: str
    date_of_birth: date
    postcodes: list[str]  # [address before the period, first address, after each move...]
    move_times: list[float]  # in [0, 1): when each move happened (sorted)
    alternative_surname: str
    twin_of: str = ""
    nhs_number: str = ""

    def address_index(self, when: float) -> int:
        """Index into ``postcodes`` of the address at time ``when``."""
        return 1 + sum(1 for moved in self.move_times if moved <= when)


_HOUSEHOLD_SIZES = {1: 0.45, 2: 0.33, 3: 0.14, 4: 0.06, 5: 0.02}
_TWIN_CHANCE = 0.0076  # per child: a twin joins them; about 1.5% of people are twins
_SIBLING_GAP_DAYS = 300


def _random_date(pyr: random.Random) -> date:
    start = date(BIRTH_YEARS[0], 1, 1)
    span = (date(BIRTH_YEARS[1], 12, 31) - start).days
    return start + timedelta(days=pyr.randint(0, span))


def _other_origin(origin: str, pyr: random.Random) -> str:
    others = [o for o in _ORIGIN_SHARES if o != origin]
    return pyr.choices(others, weights=[_ORIGIN_SHARES[o] for o in others])[0]


def _family(name: str) -> str:
    """A first name's family: its spellings and accents are one name (Sean, Seán, Shaun)."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
    ).casefold()
    return min(FIRST_NAME_VARIANTS.get(name.casefold(), [plain]), key=str.casefold).casefold()


def _first_name(origin: str, sex: str, taken: set[str], pyr: random.Random) -> str:
    """A first name whose family (``taken``: see ``_family``) is not already used in the
    household: parents do not call two children Sean and Shaun. 15% from another origin."""
    for _ in range(50):
        source = origin if pyr.random() < 0.85 else _other_origin(origin, pyr)
        name = _NAME_POOLS[source][sex].draw(pyr)
        if _family(name) not in taken:
            return name
    return name


def _twin_names(origin: str, sex: str, taken: set[str], pyr: random.Random) -> list[tuple]:
    """Names and sexes of a pair of twins: similar names, same initials, or any two names."""
    roll = pyr.random()
    if roll < 0.3:
        pairs = [p for p in _SIMILAR_TWIN_NAMES if p[0] == origin] or _SIMILAR_TWIN_NAMES
        _, first, first_sex, second, second_sex = pyr.choice(pairs)
        return [(first.replace("_", " "), first_sex), (second.replace("_", " "), second_sex)]
    if roll < 0.5:  # same sex, same initial
        first = _first_name(origin, sex, taken, pyr)
        alike = [
            n
            for n in _NAME_POOLS[origin][sex].names
            if n[0] == first[0] and _family(n) not in taken | {_family(first)}
        ]
        if alike:
            return [(first, sex), (pyr.choice(alike), sex)]
        return [(first, sex), (_first_name(origin, sex, taken | {_family(first)}, pyr), sex)]
    second_sex = sex if pyr.random() < 0.5 else ("F" if sex == "M" else "M")
    first = _first_name(origin, sex, taken, pyr)
    second = _first_name(origin, second_sex, taken | {_family(first)}, pyr)
    return [(first, sex), (second, second_sex)]


def _alternative_surname(origin: str, surname: str, pyr: random.Random) -> str:
    """The surname a family may change to (a step-parent's, or a double-barrelled one)."""
    roll = pyr.random()
    source = origin if roll < 0.6 else _other_origin(origin, pyr)
    for _ in range(20):
        other = _surname(source, pyr)
        if other != surname and SURNAME_VARIANTS.get(other.casefold()) != SURNAME_VARIANTS.get(
            surname.casefold(), [surname]
        ):
            break
    return f"{surname}-{other}" if roll > 0.85 else other


def _build_population(people: int, pyr: random.Random) -> list[_Person]:
    origins, origin_weights = list(_ORIGIN_SHARES), list(_ORIGIN_SHARES.values())
    sizes, size_weights = list(_HOUSEHOLD_SIZES), list(_HOUSEHOLD_SIZES.values())
    persons: list[_Person] = []
    household = 0
    while len(persons) < people:
        household += 1
        household_id = f"H{household:06d}"
        origin = pyr.choices(origins, weights=origin_weights)[0]
        surname = _surname(origin, pyr)
        alternative = _alternative_surname(origin, surname, pyr)
        fathers_name = _NAME_POOLS[origin]["M"].draw(pyr)
        # Addresses: one before the period, the first, and maybe a move or two.
        prior, shape = _new_postcode(None, pyr)
        current, shape = _new_postcode(shape, pyr)
        postcodes, move_times = [prior, current], []
        for _ in range(pyr.choices([0, 1, 2], weights=[0.55, 0.33, 0.12])[0]):
            moved_to, shape = _new_postcode(shape, pyr)
            postcodes.append(moved_to)
            move_times.append(pyr.random())
        move_times.sort()

        children: list[tuple[str, str, date, str]] = []  # first name, sex, birth, twin of
        taken: set[str] = set()
        size = pyr.choices(sizes, weights=size_weights)[0]
        while len(children) < size:
            sex = "M" if pyr.random() < 0.51 else "F"
            for _ in range(30):
                born = _random_date(pyr)
                if all(abs((born - c[2]).days) >= _SIBLING_GAP_DAYS for c in children):
                    break
            if pyr.random() < _TWIN_CHANCE:
                (name_a, sex_a), (name_b, sex_b) = _twin_names(origin, sex, taken, pyr)
                children.append((name_a, sex_a, born, ""))
                children.append((name_b, sex_b, born, "twin"))
                taken |= {_family(name_a), _family(name_b)}
            else:
                name = _first_name(origin, sex, taken, pyr)
                children.append((name, sex, born, ""))
                taken.add(_family(name))

        for first, sex, born, twin in children:
            truth = f"T{len(persons) + 1:06d}"
            middle = ""
            if pyr.random() < _MIDDLE_NAME_SHARE[origin]:
                if origin in _FATHERS_NAME_AS_MIDDLE:
                    middle = fathers_name
                else:
                    middle = _first_name(origin, sex, {_family(first)}, pyr)
                    if pyr.random() < 0.08:  # a second middle name
                        used = {_family(first), _family(middle)}
                        middle += " " + _first_name(origin, sex, used, pyr)
            own_postcodes, own_moves = list(postcodes), list(move_times)
            if pyr.random() < 0.04:  # this child alone moves (to a relative, into care)
                own_postcodes.append(_new_postcode(shape, pyr)[0])
                own_moves.append(pyr.uniform(0.2, 1.0))
                order = np.argsort(own_moves)
                own_moves = [own_moves[i] for i in order]
                own_postcodes = own_postcodes[:2] + [own_postcodes[2 + i] for i in order]
            person = _Person(
                truth=truth,
                household=household_id,
                origin=origin,
                first_name=first,
                middle_names=middle,
                last_name=surname,
                sex=sex,
                date_of_birth=born,
                postcodes=own_postcodes,
                move_times=own_moves,
                alternative_surname=alternative,
            )
            if twin:
                person.twin_of = persons[-1].truth
                persons[-1].twin_of = truth
            persons.append(person)
    del persons[people:]
    if persons and persons[-1].twin_of and persons[-1].twin_of > persons[-1].truth:
        persons[-1].twin_of = ""  # the other twin was cut off
    return persons


def _nhs_numbers(count: int, rng: np.random.Generator) -> list[str]:
    """``count`` distinct valid NHS numbers in the never-issued 999 range, or all of them (about
    900,000) if that is fewer."""
    numbers = []
    for serial in rng.permutation(1_000_000):
        stem = f"999{serial:06d}"
        check = nhs_check_digit(stem)
        if check is not None:
            numbers.append(f"{stem}{check}")
            if len(numbers) == count:
                break
    return numbers


# ---------------------------------------------------------------------------------------------
# Corruptions. Each takes the current value and returns a changed one, or None when it cannot
# apply (or would change nothing).
# ---------------------------------------------------------------------------------------------

_QWERTY_NEIGHBOURS = {
    "q": "wa",
    "w": "qeas",
    "e": "wrsd",
    "r": "etdf",
    "t": "ryfg",
    "y": "tugh",
    "u": "yihj",
    "i": "uojk",
    "o": "ipkl",
    "p": "ol",
    "a": "qwsz",
    "s": "awedxz",
    "d": "serfcx",
    "f": "drtgvc",
    "g": "ftyhbv",
    "h": "gyujnb",
    "j": "huikmn",
    "k": "jiolm",
    "l": "kop",
    "z": "asx",
    "x": "zsdc",
    "c": "xdfv",
    "v": "cfgb",
    "b": "vghn",
    "n": "bhjm",
    "m": "njk",
    "1": "2q",
    "2": "13w",
    "3": "24e",
    "4": "35r",
    "5": "46t",
    "6": "57y",
    "7": "68u",
    "8": "79i",
    "9": "80o",
    "0": "9p",
}
_OCR = [
    ("O", "0"),
    ("o", "0"),
    ("0", "O"),
    ("I", "1"),
    ("I", "l"),
    ("l", "1"),
    ("l", "I"),
    ("1", "l"),
    ("1", "I"),
    ("S", "5"),
    ("s", "5"),
    ("5", "S"),
    ("B", "8"),
    ("8", "B"),
    ("rn", "m"),
    ("m", "rn"),
    ("cl", "d"),
    ("d", "cl"),
    ("vv", "w"),
    ("w", "vv"),
    ("RN", "M"),
    ("M", "RN"),
    ("CL", "D"),
    ("D", "CL"),
    ("VV", "W"),
    ("W", "VV"),
]

Corruption = Callable[[str, random.Random], "str | None"]


def _changed(before: str, after: str) -> str | None:
    return after if after != before else None


def _like(char: str, model: str) -> str:
    """``char`` in the case of ``model``."""
    return char.upper() if model.isupper() else char.lower()


def _keyboard(value: str, r: random.Random) -> str | None:
    spots = [i for i, ch in enumerate(value) if ch.lower() in _QWERTY_NEIGHBOURS]
    if not spots:
        return None
    i = r.choice(spots)
    typed = r.choice(_QWERTY_NEIGHBOURS[value[i].lower()])
    if value[i].isalpha():
        typed = _like(typed, value[i])
    elif value == value.upper():  # a digit mistyped as a letter, in a postcode in capitals
        typed = typed.upper()
    return _changed(value, value[:i] + typed + value[i + 1 :])


def _ocr(value: str, r: random.Random) -> str | None:
    sites = []
    for seen, read in _OCR:
        start = value.find(seen)
        while start >= 0:
            sites.append((start, seen, read))
            start = value.find(seen, start + 1)
    if not sites:
        return None
    start, seen, read = r.choice(sites)
    return _changed(value, value[:start] + read + value[start + len(seen) :])


def _transpose(value: str, r: random.Random) -> str | None:
    spots = [
        i
        for i in range(len(value) - 1)
        if value[i].isalnum()
        and value[i + 1].isalnum()
        and value[i].lower() != value[i + 1].lower()
    ]
    if not spots:
        return None
    i = r.choice(spots)
    a, b = value[i], value[i + 1]
    return value[:i] + _like(b, a) + _like(a, b) + value[i + 2 :]


def _drop(value: str, r: random.Random) -> str | None:
    spots = [i for i, ch in enumerate(value) if ch.isalpha() and i > 0]
    if len(spots) < 3:
        return None
    i = r.choice(spots)
    return _changed(value, value[:i] + value[i + 1 :])


def _double(value: str, r: random.Random) -> str | None:
    spots = [i for i, ch in enumerate(value) if ch.isalpha()]
    if not spots:
        return None
    i = r.choice(spots)
    model = value[i + 1] if i + 1 < len(value) and value[i + 1].isalpha() else value[i]
    return value[: i + 1] + _like(value[i], model) + value[i + 1 :]


def _truncate(value: str, r: random.Random) -> str | None:
    if len(value) < 2:
        return None
    if r.random() < 0.3 or len(value) <= 3:
        return value[0]
    return _changed(value, value[: min(r.randint(3, 5), len(value) - 1)].rstrip(" -'"))


def _case(value: str, r: random.Random) -> str | None:
    if not any(ch.isalpha() for ch in value):
        return None
    if value.islower():
        return value.upper()
    if value.isupper() and r.random() < 0.5:
        return _changed(value, value.title())
    return _changed(value, value.lower())


def _space(value: str, r: random.Random) -> str | None:
    options = [lambda: "  " + value.lstrip(), lambda: value + "  "]
    if " " in value:
        options += [lambda: value.replace(" ", "  ", 1)] * 2 + [lambda: value.replace(" ", "")]
    elif len(value) >= 4:
        i = r.randint(2, len(value) - 2)
        options += [lambda: value[:i] + " " + value[i:]] * 2
    return _changed(value, r.choice(options)())


def _punctuation(value: str, r: random.Random) -> str | None:
    options = [lambda: value + "."]
    if len(value) >= 4:
        i = r.randint(1, len(value) - 1)
        options += [lambda: value[:i] + "-" + value[i:]] * 3
    if any(ch in value for ch in "'-"):
        options += [lambda: value.replace("'", "").replace("-", " ")] * 2
    return _changed(value, r.choice(options)())


def _missing(value: str, r: random.Random) -> str | None:
    return "" if value.strip() else None


def _variant_of(lookup: dict[str, list[str]]) -> Corruption:
    def variant(value: str, r: random.Random) -> str | None:
        spellings = lookup.get(value.casefold())
        if not spellings:
            return None
        other = r.choice([s for s in spellings if s.casefold() != value.casefold()])
        return other.upper() if value.isupper() else other

    return variant


_NAME_KINDS: dict[str, tuple[Corruption, float]] = {
    "keyboard": (_keyboard, 3.0),
    "ocr": (_ocr, 1.5),
    "transpose": (_transpose, 2.0),
    "drop": (_drop, 2.0),
    "double": (_double, 1.5),
    "truncate": (_truncate, 1.5),
    "case": (_case, 1.0),
    "space": (_space, 0.8),
    "punctuation": (_punctuation, 1.0),
    "missing": (_missing, 1.5),
}
_FIRST_NAME_KINDS = {**_NAME_KINDS, "variant": (_variant_of(FIRST_NAME_VARIANTS), 2.0)}
_LAST_NAME_KINDS = {**_NAME_KINDS, "variant": (_variant_of(SURNAME_VARIANTS), 1.5)}
# surname_change needs the person, so it is applied in _corrupt_record (weight here).
_SURNAME_CHANGE_WEIGHT = 2.5
_MIDDLE_NAME_KINDS = {
    "missing": (_missing, 4.0),
    "truncate": (_truncate, 2.0),
    "keyboard": (_keyboard, 1.0),
    "drop": (_drop, 1.0),
    "transpose": (_transpose, 1.0),
}
_NAME_FIELD_KINDS = {
    "first_name": _FIRST_NAME_KINDS,
    "last_name": _LAST_NAME_KINDS,
    "middle_names": _MIDDLE_NAME_KINDS,
}
_NAME_FIELD_WEIGHTS = {
    field: {kind: weight for kind, (_, weight) in kinds.items()}
    for field, kinds in _NAME_FIELD_KINDS.items()
}
_LAST_NAME_WEIGHTS_WITH_CHANGE = _NAME_FIELD_WEIGHTS["last_name"] | {
    "surname_change": _SURNAME_CHANGE_WEIGHT
}


def _date_digit(value: date, r: random.Random) -> date | None:
    digits = value.strftime("%Y%m%d")
    for _ in range(20):
        i = r.choice([2, 3, 4, 5, 6, 7, 7, 6])  # the century is never mistyped
        typed = _parse_date(digits[:i] + str(r.randint(0, 9)) + digits[i + 1 :])
        if typed is not None and typed != value:
            return typed
    return None


def _date_transpose(value: date, r: random.Random) -> date | None:
    digits = value.strftime("%Y%m%d")
    spots = [i for i in range(2, 7) if digits[i] != digits[i + 1]]
    r.shuffle(spots)
    for i in spots:
        swapped = _parse_date(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
        if swapped is not None:
            return swapped
    return None


def _day_month_swap(value: date, r: random.Random) -> date | None:
    if value.day > 12 or value.day == value.month:
        return None
    return value.replace(month=value.day, day=value.month)


def _year_off_by_one(value: date, r: random.Random) -> date | None:
    try:
        return value.replace(year=value.year + r.choice((-1, 1)))
    except ValueError:  # 29 February
        return None


def _same_month(value: date, r: random.Random) -> date | None:
    following = value.replace(day=28) + timedelta(days=4)
    last_day = (following - timedelta(days=following.day)).day
    day = r.choice([d for d in range(1, last_day + 1) if d != value.day])
    return value.replace(day=day)


def _parse_date(digits: str) -> date | None:
    """The date ``YYYYMMDD`` when it is a real and plausible date of birth, else None."""
    try:
        parsed = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    return parsed if _PLAUSIBLE_YEARS[0] <= parsed.year <= _PLAUSIBLE_YEARS[1] else None


_DATE_KINDS: dict[str, tuple[Callable[[date, random.Random], date | None], float]] = {
    "digit": (_date_digit, 2.0),
    "transpose": (_date_transpose, 2.0),
    "day_month_swap": (_day_month_swap, 2.0),
    "year_off_by_one": (_year_off_by_one, 1.5),
    "same_month": (_same_month, 1.5),
}
_DATE_WEIGHTS = {kind: weight for kind, (_, weight) in _DATE_KINDS.items()} | {"missing": 1.5}


def _postcode_typo(value: str, r: random.Random) -> str | None:
    """One character mistyped: a neighbouring key, or now and then an OCR misreading."""
    misread = _ocr(value, r) if r.random() < 0.3 else None
    return misread or _keyboard(value, r)


def _postcode_spacing(value: str, r: random.Random) -> str | None:
    if " " in value:
        return value.replace(" ", "") if r.random() < 0.8 else value.replace(" ", "  ")
    if "-" in value:
        return value.replace("-", "") if r.random() < 0.6 else value.replace("-", " ")
    if len(value) < 3:
        return None
    i = r.randint(1, len(value) - 1)
    return value[:i] + " " + value[i:]


_POSTCODE_KINDS = {"typo": 3.0, "spacing": 2.0, "old_address": 2.5, "missing": 1.5}
_SEX_KINDS = {"flip": 4.0, "unknown": 2.0, "missing": 1.5}
_NAME_ORDER_KINDS = {"swap_first_last": 3.0, "middle_as_first": 2.0}

# Which fields a record's corruptions land on. Each is drawn at most once for a record (a
# reordering of names may still be followed by a typo in the first or last name). Sampling
# without replacement lifts the rarer fields when a record draws several corruptions.
_FIELD_WEIGHTS = {
    "first_name": 0.23,
    "last_name": 0.22,
    "middle_names": 0.06,
    "name_order": 0.012,
    "date_of_birth": 0.21,
    "postcode": 0.21,
    "sex": 0.04,
}


@dataclass(frozen=True)
class Preset:
    """How hard the records are: the mean number of corruptions drawn per record."""

    mean_corruptions: float


PRESETS = {"heavy": Preset(mean_corruptions=2.0), "moderate": Preset(mean_corruptions=1.0)}


def _weighted_order(weights: dict[str, float], r: random.Random) -> Iterator[str]:
    """The keys in a random order, heavier ones likelier first (weighted sampling without
    replacement), drawn as they are asked for."""
    keys, left = list(weights), list(weights.values())
    while keys:
        pick = r.random() * sum(left)
        i = 0
        while i < len(left) - 1 and pick >= left[i]:
            pick -= left[i]
            i += 1
        left.pop(i)
        yield keys.pop(i)


@dataclass(frozen=True)
class _Source:
    name: str
    upper_case_names: bool  # the system writes names in capitals
    middle_names: bool  # the system records middle names
    spaced_nhs_number: bool  # "999 123 4567"
    record_id: Callable[[int], str]


SOURCES = [
    _Source("clinic_a", True, True, True, lambda n: f"CA{n:07d}"),
    _Source("school_b", False, True, False, lambda n: f"{n:07d}"),
    _Source("register_c", False, True, False, lambda n: f"RC-{n:06d}{'ABCDEFGHJK'[n % 10]}"),
    _Source("survey_d", False, False, False, lambda n: f"SD/{n:07d}"),
]
_SOURCE_SHARES = [0.30, 0.30, 0.25, 0.15]


def _corrupt_record(
    values: dict[str, str],
    person: _Person,
    address: int,
    corruptions: int,
    r: random.Random,
) -> list[str]:
    """Apply ``corruptions`` corruptions to distinct fields of ``values`` (in place); return
    what was applied as ``field:kind`` entries."""
    applied: list[str] = []
    if corruptions <= 0:
        return applied
    order = _weighted_order(_FIELD_WEIGHTS, r)
    chosen = list(itertools.islice(order, corruptions))
    if "name_order" in chosen:  # reorder first, so later typos land where they say
        chosen.remove("name_order")
        chosen.insert(0, "name_order")
    # A field that cannot take a corruption (a blank middle name) hands it to another field.
    spare = (field for field in order if field != "name_order")
    swapped = False
    while chosen:
        field = chosen.pop(0)
        entries = _corrupt_field(field, values, person, address, swapped, r)
        if entries:
            applied += entries
            swapped = swapped or field == "name_order"
        else:
            chosen.extend(itertools.islice(spare, 1))
    return applied


def _corrupt_field(
    field: str,
    values: dict[str, str],
    person: _Person,
    address: int,
    swapped: bool,
    r: random.Random,
) -> list[str]:
    if field in ("first_name", "last_name", "middle_names"):
        kinds = _NAME_FIELD_KINDS[field]
        weights = _NAME_FIELD_WEIGHTS[field]
        if field == "last_name" and not swapped:
            weights = _LAST_NAME_WEIGHTS_WITH_CHANGE
        value = values[field]
        for kind in _weighted_order(weights, r):
            if kind == "surname_change":
                new = person.alternative_surname
                new = new.upper() if value.isupper() else new
                if r.random() < 0.5:
                    values["former_last_name"] = value or person.last_name
            else:
                new = kinds[kind][0](value, r) if value else None
            if new is not None and new != value:
                values[field] = new
                return [f"{field}:{kind}"]
        return []

    if field == "name_order":
        for kind in _weighted_order(_NAME_ORDER_KINDS, r):
            first, middle, last = values["first_name"], values["middle_names"], values["last_name"]
            if kind == "swap_first_last" and first and last and first != last:
                values["first_name"], values["last_name"] = last, first
                return ["first_name:swap_first_last", "last_name:swap_first_last"]
            if kind == "middle_as_first" and middle and middle.split(" ")[0] != first:
                values["first_name"] = middle.split(" ")[0]
                values["middle_names"] = first if r.random() < 0.5 else ""
                return ["first_name:middle_as_first", "middle_names:middle_as_first"]
        return []

    if field == "date_of_birth":
        weights = _DATE_WEIGHTS
        born = person.date_of_birth
        for kind in _weighted_order(weights, r):
            if kind == "missing":
                values[field] = ""
                return [f"{field}:missing"]
            new_date = _DATE_KINDS[kind][0](born, r)
            if new_date is not None and new_date != born:
                values[field] = new_date.isoformat()
                return [f"{field}:{kind}"]
        return []

    if field == "postcode":
        value = values[field]
        for kind in _weighted_order(_POSTCODE_KINDS, r):
            if kind == "old_address":
                new = person.postcodes[address - 1]
            elif kind == "missing":
                new = ""
            elif kind == "typo":
                new = _postcode_typo(value, r)
            else:
                new = _postcode_spacing(value, r)
            if new is not None and new != value:
                values[field] = new
                return [f"{field}:{kind}"]
        return []

    # sex
    value = values["sex"]
    kind = next(_weighted_order(_SEX_KINDS, r))
    new = {"flip": "F" if value == "M" else "M", "unknown": "U", "missing": ""}[kind]
    values["sex"] = new
    return [f"sex:{kind}"]


def _mistype_nhs_number(number: str, r: random.Random) -> tuple[str, str]:
    """One digit changed or two adjacent digits swapped, never in the leading 999."""
    if r.random() < 0.5:
        spots = [i for i in range(3, 9) if number[i] != number[i + 1]]
        if spots:
            i = r.choice(spots)
            return number[:i] + number[i + 1] + number[i] + number[i + 2 :], "transpose"
    i = r.randint(3, 9)
    digit = r.choice([d for d in "0123456789" if d != number[i]])
    return number[:i] + digit + number[i + 1 :], "digit"


# ---------------------------------------------------------------------------------------------
# Putting it together.
# ---------------------------------------------------------------------------------------------

NHS_CARRIED_SHARE = 0.6
NHS_MISTYPED_SHARE = 0.03
_RECORDS_PER_PERSON_P = 0.42  # geometric, capped at 6: about 42% of people have one record
_MAX_RECORDS = 6


@dataclass(frozen=True)
class Dataset:
    """The records (``OUTPUT_COLUMNS``) and the people behind them (``PEOPLE_COLUMNS``)."""

    records: pd.DataFrame
    people: pd.DataFrame


def generate_dataset(
    people: int, seed: int = 0, preset: str = "heavy", identifiers: bool = False
) -> Dataset:
    """The records of ``people`` synthetic children and the people themselves.

    Deterministic for a seed. ``identifiers`` only adds NHS numbers: every other column is the
    same with or without it.
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    if people < 1:
        raise ValueError(f"people must be at least 1, got {people}")
    root = np.random.default_rng(seed)
    population_rng, records_rng, identifier_rng = root.spawn(3)

    persons = _build_population(people, random.Random(int(population_rng.integers(2**63))))

    # Records: how many each person has, when, from which source, how many corruptions.
    counts = np.minimum(records_rng.geometric(_RECORDS_PER_PERSON_P, size=people), _MAX_RECORDS)
    owner = np.repeat(np.arange(people), counts)
    n_records = len(owner)
    times = records_rng.random(n_records)
    sources = records_rng.choice(len(SOURCES), size=n_records, p=_SOURCE_SHARES)
    corruptions = records_rng.poisson(PRESETS[preset].mean_corruptions, size=n_records)
    shuffle = records_rng.permutation(n_records)  # output order: no truth in record ids
    serials = {
        i: records_rng.choice(9_000_000, size=int((sources == i).sum()), replace=False) + 1
        for i in range(len(SOURCES))
    }
    r = random.Random(int(records_rng.integers(2**63)))

    rows: list[list[str]] = []
    for index in range(n_records):
        person = persons[owner[index]]
        source = SOURCES[sources[index]]
        address = person.address_index(times[index])
        values = {
            "first_name": person.first_name,
            "middle_names": person.middle_names if source.middle_names else "",
            "last_name": person.last_name,
            "former_last_name": "",
            "date_of_birth": person.date_of_birth.isoformat(),
            "sex": person.sex,
            "postcode": person.postcodes[address],
        }
        if source.upper_case_names:
            for field in ("first_name", "middle_names", "last_name"):
                values[field] = values[field].upper()
        errors = _corrupt_record(values, person, address, int(corruptions[index]), r)
        rows.append(
            [
                values["first_name"],
                values["middle_names"],
                values["last_name"],
                values["former_last_name"],
                values["date_of_birth"],
                values["sex"],
                values["postcode"],
                person.truth,
                ";".join(errors),
            ]
        )

    frame = pd.DataFrame(
        rows,
        columns=[
            "first_name",
            "middle_names",
            "last_name",
            "former_last_name",
            "date_of_birth",
            "sex",
            "postcode",
            "truth",
            "errors",
        ],
    )
    source_names = np.array([s.name for s in SOURCES], dtype=object)
    frame["source"] = source_names[sources]
    frame["source_record_id"] = ""
    for i, source in enumerate(SOURCES):
        mine = np.flatnonzero(sources == i)
        frame.loc[mine, "source_record_id"] = [source.record_id(int(n)) for n in serials[i]]
    for column in ("upn", "former_upn", "nhs_number", "la_child_id"):
        frame[column] = ""

    if identifiers:
        _add_nhs_numbers(frame, persons, owner, sources, identifier_rng)

    frame = frame.iloc[shuffle].reset_index(drop=True)
    # record_id: "<source>:<n>", n counting each source's records in output order.
    frame["record_id"] = (
        frame["source"] + ":" + (frame.groupby("source").cumcount() + 1).astype(str)
    )
    records = frame[OUTPUT_COLUMNS].astype(object)
    return Dataset(records=records, people=_people_frame(persons))


def _add_nhs_numbers(
    frame: pd.DataFrame,
    persons: list[_Person],
    owner: np.ndarray,
    sources: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Give about 60% of records their person's NHS number, about 3% of those mistyped. Only
    synthetic numbers are used (the 999 range): beyond about 900,000 people, a random share of
    people has none (as people never registered with the NHS)."""
    numbers = _nhs_numbers(len(persons), rng)
    numbered = (
        range(len(persons))
        if len(numbers) == len(persons)
        else np.sort(rng.choice(len(persons), size=len(numbers), replace=False))
    )
    for index, number in zip(numbered, numbers, strict=True):
        persons[index].nhs_number = number
    carried = rng.random(len(frame)) < NHS_CARRIED_SHARE
    mistyped = carried & (rng.random(len(frame)) < NHS_MISTYPED_SHARE)
    r = random.Random(int(rng.integers(2**63)))
    numbers = [""] * len(frame)
    errors = frame["errors"].tolist()
    for index in np.flatnonzero(carried):
        number = persons[owner[index]].nhs_number
        if not number:
            continue
        if mistyped[index]:
            number, kind = _mistype_nhs_number(number, r)
            errors[index] = ";".join(filter(None, [errors[index], f"nhs_number:{kind}"]))
        if SOURCES[sources[index]].spaced_nhs_number:
            number = f"{number[:3]} {number[3:6]} {number[6:]}"
        numbers[index] = number
    frame["nhs_number"] = numbers
    frame["errors"] = errors


def _people_frame(persons: list[_Person]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [
                p.truth,
                p.household,
                p.origin,
                p.first_name,
                p.middle_names,
                p.last_name,
                p.date_of_birth.isoformat(),
                p.sex,
                ";".join(p.postcodes),
                p.twin_of,
                p.alternative_surname,
                p.nhs_number,
            ]
            for p in persons
        ],
        columns=PEOPLE_COLUMNS,
        dtype=object,
    )


def generate_people(
    people: int, seed: int = 0, preset: str = "heavy", identifiers: bool = False
) -> pd.DataFrame:
    """The records of ``people`` synthetic children (``OUTPUT_COLUMNS``, all text)."""
    return generate_dataset(people, seed=seed, preset=preset, identifiers=identifiers).records


def corrupted_fields(errors: pd.Series) -> pd.Series:
    """How many distinct fields each record's ``errors`` entry names."""
    return errors.map(
        lambda text: len({entry.split(":", 1)[0] for entry in text.split(";")}) if text else 0
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Write synthetic person records with an independent error model."
    )
    parser.add_argument("--people", type=int, default=5000, help="number of people")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="heavy")
    parser.add_argument(
        "--identifiers", action="store_true", help="about 60%% of records carry an NHS number"
    )
    parser.add_argument("--out", type=Path, required=True, help="CSV of the records")
    parser.add_argument("--people-out", type=Path, help="CSV of the people (the truth)")
    args = parser.parse_args(argv)

    dataset = generate_dataset(
        args.people, seed=args.seed, preset=args.preset, identifiers=args.identifiers
    )
    records = dataset.records
    args.out.parent.mkdir(parents=True, exist_ok=True)
    records.to_csv(args.out, index=False)
    if args.people_out is not None:
        args.people_out.parent.mkdir(parents=True, exist_ok=True)
        dataset.people.to_csv(args.people_out, index=False)
    fields = corrupted_fields(records["errors"])
    corruptions = records["errors"].map(lambda text: len(text.split(";")) if text else 0)
    print(
        f"wrote {len(records):,} records of {records['truth'].nunique():,} people to {args.out} "
        f"(preset {args.preset}, seed {args.seed}): {(fields >= 2).mean():.1%} of records have "
        f"2+ corrupted fields, {corruptions.mean():.2f} corruptions per record on average"
    )


if __name__ == "__main__":
    main()
