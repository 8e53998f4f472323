"""Build the worked examples' data files from persons of the shipped synthetic registry, and
refresh the generated canonical-fields table of docs/source-config.md.

Each example of docs/source-config.md is a partner list laid out as an operator found it; its
config (``*.yaml`` beside this script) is written by hand, its data is built here, from
persons of ``sample_data/registry.csv`` (synthetic), so that it links. ``expected_links.csv``
gives the registry person each record is. The output is deterministic: run it again and
nothing changes (tests/docs/test_examples.py checks that).

    python docs/examples/make_examples.py [--registry REGISTRY.csv] [--out FOLDER]
    python docs/examples/make_examples.py --fields-table    # only the table of the doc
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from collections import Counter
from pathlib import Path

from registry_link.config.fields import field_reference, to_markdown
from registry_link.model import load_model_config
from registry_link.standardise.gazetteer import TOWNS
from registry_link.synth.name_pool import RURAL_COMMUNES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DOC = ROOT / "docs" / "source-config.md"
SEED = 13
#: The generated table of the doc, between its markers.
FIELDS_TABLE = re.compile(r"(<!-- fields:begin[^\n]*-->\n)(.*?)(<!-- fields:end -->)", re.DOTALL)

Person = dict[str, str]


def read_registry(path: Path) -> list[Person]:
    """The registry extract's rows (all text), empty cells as ``""``."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def year(p: Person) -> int:
    """The person's birth year (the registry gives ``dd/mm/yyyy`` or ``yyyy``)."""
    return int(p["date_naissance"][-4:])


def unambiguous(people: list[Person]) -> list[Person]:
    """Persons no other registry person shares a name (either script) and birth year with."""
    lat = Counter((p["nom"].lower(), p["prenom"].lower(), year(p)) for p in people if p["nom"])
    ar = Counter((p["nom_ar"], p["prenom_ar"], year(p)) for p in people)
    return [
        p
        for p in people
        if ar[(p["nom_ar"], p["prenom_ar"], year(p))] == 1
        and (not p["nom"] or lat[(p["nom"].lower(), p["prenom"].lower(), year(p))] == 1)
    ]


def arabic_town(name: str) -> str:
    """The Arabic name of a town from the built-in gazetteer, or of one of the synthetic
    registry's rural communes (the French name if unknown)."""
    rural = {spelling: c.arabic for c in RURAL_COMMUNES for spelling in c.latin}
    return TOWNS.get(name, (rural.get(name, name),))[0]


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], *, sep: str, bom: bool = False
) -> None:
    """Write a CSV file as a partner would send it."""
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=sep, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def adults(people: list[Person], *, latin: bool, cin: bool) -> list[Person]:
    """Persons born 1950-2002 with (or without the need of) a Latin name and a CIN."""
    return [
        p
        for p in people
        if 1950 <= year(p) <= 2002 and (p["nom"] or not latin) and (p["cin"] or not cin)
    ]


def coop_semicolon(pool: list[Person], rng: random.Random) -> tuple[list[list[str]], list[str]]:
    """(a) A cooperative's list: `;`-separated, French headers, some names in capitals."""
    rows, ids = [], []
    for i, p in enumerate(rng.sample(pool, 25), start=1):
        family = p["nom"].upper() if i % 3 == 0 else p["nom"]
        cin = "" if i % 8 == 0 else p["cin"]  # a few members gave no CIN
        sex = {"M": "H", "F": "F"}[p["sexe"]]
        rows.append(
            [
                f"COOP-{i:04d}",
                cin,
                family,
                p["prenom"],
                sex,
                p["date_naissance"],
                p["lieu_naissance"],
                p["commune_residence"],
            ]
        )
        ids.append(p["id_personne"])
    return rows, ids


def association_arabic_bom(
    pool: list[Person], rng: random.Random
) -> tuple[list[list[str]], list[str]]:
    """(b) An association's list in Arabic: Arabic headers, UTF-8 with a BOM, Arabic towns."""
    rows, ids = [], []
    for i, p in enumerate(rng.sample(pool, 25), start=1):
        sex = {"M": "ذكر", "F": "أنثى"}[p["sexe"]]
        rows.append(
            [
                f"{7100 + i}",
                p["nom_ar"],
                p["prenom_ar"],
                p["cin"],
                sex,
                p["date_naissance"],
                arabic_town(p["commune_residence"]),
            ]
        )
        ids.append(p["id_personne"])
    return rows, ids


def ordre_fullname_years(
    pool: list[Person], rng: random.Random
) -> tuple[list[list[str]], list[str]]:
    """(c) A list with one unsplit name in either order or script, and birth years only."""
    rows, ids = [], []
    for i, p in enumerate(rng.sample(pool, 30), start=1):
        layout = i % 3
        if layout == 0:
            name = f"{p['prenom']} {p['nom']}"
        elif layout == 1:
            name = f"{p['nom'].upper()} {p['prenom']}"
        else:
            name = f"{p['prenom_ar']} {p['nom_ar']}"
        rows.append([f"OF-{i:03d}", name, str(year(p)), p["commune_residence"]])
        ids.append(p["id_personne"])
    return rows, ids


def btp_workers(
    people: list[Person], pool: list[Person], rng: random.Random
) -> tuple[list[list[str]], list[list[str]], list[str], list[str]]:
    """(d) Workers in one file, their spouses and children in a second, differently named one."""
    by_household: dict[str, list[Person]] = {}
    for p in people:
        by_household.setdefault(p["id_menage"], []).append(p)
    fit = set(map(id, pool))
    heads = [
        p
        for p in pool
        if p["lien_chef"] == "CHEF"
        and p["sexe"] == "M"
        and any(m["lien_chef"] == "EPOUSE" and id(m) in fit for m in by_household[p["id_menage"]])
        and any(m["lien_chef"] in ("FILS", "FILLE") for m in by_household[p["id_menage"]])
    ]
    workers, dependants, worker_ids, dependant_ids = [], [], [], []
    n = 0
    for w, head in enumerate(rng.sample(heads, 8), start=1):
        matricule = f"BTP-{w:03d}"
        workers.append(
            [
                matricule,
                head["cin"],
                head["nom"],
                head["prenom"],
                "H",
                head["date_naissance"],
                head["commune_residence"],
            ]
        )
        worker_ids.append(head["id_personne"])
        members = by_household[head["id_menage"]]
        spouse = next(m for m in members if m["lien_chef"] == "EPOUSE" and id(m) in fit)
        children = [m for m in members if m["lien_chef"] in ("FILS", "FILLE")][:2]
        for m in (spouse, *children):
            n += 1
            lien = "Conjointe" if m is spouse else "Enfant"
            dependants.append(
                [
                    f"AD-{n:04d}",
                    matricule,
                    lien,
                    m["nom"] or m["nom_ar"],  # a child registered in Arabic only
                    m["prenom"] or m["prenom_ar"],
                    {"M": "H", "F": "F"}[m["sexe"]],
                    m["date_naissance"],
                    m["cin"],
                ]
            )
            dependant_ids.append(m["id_personne"])
    return workers, dependants, worker_ids, dependant_ids


def ordre_civilite(pool: list[Person], rng: random.Random) -> tuple[list[list[str]], list[str]]:
    """(e) A professional order: a civility column instead of sex, a city column."""
    rows, ids = [], []
    for i, p in enumerate(rng.sample(pool, 25), start=1):
        arabic = i % 4 == 0
        if p["sexe"] == "M":
            civility = "السيد" if arabic else "M."
        else:
            civility = "السيدة" if arabic else ("Mlle" if year(p) >= 1990 else "Mme")
        rows.append(
            [
                f"ODM/{2019 + i % 6}/{i:03d}",
                civility,
                p["nom"],
                p["prenom"],
                p["cin"],
                p["date_naissance"],
                p["commune_residence"],
            ]
        )
        ids.append(p["id_personne"])
    return rows, ids


def build(registry: Path, out: Path) -> None:
    """Write every example's data files and ``expected_links.csv`` into ``out``."""
    people = read_registry(registry)
    clear = unambiguous(people)
    rng = random.Random(SEED)
    taken: set[str] = set()

    def fresh(pool: list[Person]) -> list[Person]:
        return [p for p in pool if p["id_personne"] not in taken]

    expected: list[list[str]] = []

    def expect(example: str, source: str, rows: list[list[str]], ids: list[str]) -> None:
        taken.update(ids)
        expected.extend([example, source, row[0], pid] for row, pid in zip(rows, ids, strict=True))

    rows, ids = coop_semicolon(fresh(adults(clear, latin=True, cin=True)), rng)
    write_csv(
        out / "coop_semicolon.csv",
        [
            "Code adhérent",
            "CIN",
            "Nom",
            "Prénom",
            "Sexe",
            "Date de naissance",
            "Lieu de naissance",
            "Commune",
        ],
        rows,
        sep=";",
    )
    expect("coop_semicolon", "coop_semicolon", rows, ids)

    rows, ids = association_arabic_bom(fresh(adults(clear, latin=False, cin=True)), rng)
    write_csv(
        out / "association_arabic_bom.csv",
        [
            "رقم المنخرط",
            "الاسم العائلي",
            "الاسم الشخصي",
            "رقم البطاقة الوطنية",
            "الجنس",
            "تاريخ الازدياد",
            "الجماعة",
        ],
        rows,
        sep=",",
        bom=True,
    )
    expect("association_arabic_bom", "association_arabic_bom", rows, ids)

    rows, ids = ordre_fullname_years(fresh(adults(clear, latin=True, cin=False)), rng)
    write_csv(
        out / "ordre_fullname_years.csv",
        ["N° ordre", "Nom complet", "Année de naissance", "Ville"],
        rows,
        sep=";",
    )
    expect("ordre_fullname_years", "ordre_fullname_years", rows, ids)

    workers, dependants, worker_ids, dependant_ids = btp_workers(
        people, fresh(adults(clear, latin=True, cin=True)), rng
    )
    write_csv(
        out / "ouvriers_btp_2025.csv",
        ["Matricule", "CIN", "Nom", "Prénom", "Sexe", "Date de naissance", "Commune"],
        workers,
        sep=";",
    )
    write_csv(
        out / "ayants_droit_btp.csv",
        [
            "Matricule ayant droit",
            "Matricule ouvrier",
            "Lien",
            "Nom",
            "Prénom",
            "Sexe",
            "Date de naissance",
            "CIN",
        ],
        dependants,
        sep=";",
    )
    expect("btp_workers", "btp_workers", workers, worker_ids)
    expect("btp_workers", "btp_workers", dependants, dependant_ids)

    rows, ids = ordre_civilite(fresh(adults(clear, latin=True, cin=True)), rng)
    write_csv(
        out / "ordre_civilite.csv",
        ["N° inscription", "Civilité", "Nom", "Prénom", "CIN", "Date de naissance", "Ville"],
        rows,
        sep=",",
    )
    expect("ordre_civilite", "ordre_civilite", rows, ids)

    write_csv(
        out / "expected_links.csv",
        ["example", "source", "record_id", "person_id"],
        expected,
        sep=",",
    )


def fields_table() -> str:
    """The canonical-fields table of the shipped model config, as the doc carries it."""
    return to_markdown(field_reference(load_model_config(ROOT / "configs" / "model.yaml")))


def update_fields_table(doc: Path = DOC) -> bool:
    """Replace the doc's generated fields table with :func:`fields_table`; True if it changed."""
    text = doc.read_text(encoding="utf-8")
    if not FIELDS_TABLE.search(text):
        raise SystemExit(f"{doc}: no <!-- fields:begin --> ... <!-- fields:end --> markers")
    table = fields_table()
    updated = FIELDS_TABLE.sub(lambda m: m.group(1) + table + m.group(3), text)
    doc.write_text(updated, encoding="utf-8")
    return updated != text


def main() -> None:
    """Command line: ``--registry`` and ``--out`` (defaults: the shipped sample, this folder);
    ``--fields-table`` refreshes only the doc's fields table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=Path, default=ROOT / "sample_data" / "registry.csv")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument(
        "--fields-table", action="store_true", help="only refresh the table in the doc"
    )
    args = parser.parse_args()
    if not args.fields_table:
        args.out.mkdir(parents=True, exist_ok=True)
        build(args.registry, args.out)
    changed = update_fields_table()
    print(f"{DOC}: fields table {'updated' if changed else 'unchanged'}")


if __name__ == "__main__":
    main()
