"""The PHI engine on the synthetic corpus, decoys, structure, suppression and odd inputs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from gitops_health.rules.change import AddedLine, Change, FileChange
from gitops_health.rules.config.phi import PhiConfig
from gitops_health.rules.config.policy import parse_policy
from gitops_health.rules.phi import scan_bytes, scan_change, scan_lines
from gitops_health.rules.phi.baseline import Baseline
from gitops_health.rules.phi.corpus import dicom_bytes, evaluate


def _lines(text: str) -> dict[int, str]:
    return dict(enumerate(textwrap.dedent(text).strip("\n").splitlines(), start=1))


def _types(hits) -> set[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return {(h.line, h.entity_type) for h in hits}


def test_corpus_precision_and_recall_per_type(corpus, corpus_predictions) -> None:
    scores = evaluate(corpus, corpus_predictions)
    low = {e: (round(s.precision, 2), round(s.recall, 2)) for e, s in scores.items()
           if s.precision < 0.95 or s.recall < 0.95}  # fmt: skip
    assert not low, low
    assert len(scores) >= 20  # every entity type is exercised


def test_decoy_files_are_not_flagged(corpus, corpus_predictions) -> None:
    decoys = [f.path for f in corpus if not f.labels]
    assert decoys
    assert {p: corpus_predictions[p] for p in decoys if corpus_predictions[p]} == {}


def test_quiet_on_code_and_reserved_values(phi_config: PhiConfig) -> None:
    code = _lines("""
        from werkzeug.routing import Rule  # app.route, os.system
        ID = "550e8400-e29b-41d4-a716-446655440000"
        SHA = "9fceb02d0ae598e95dc970b74767f19372d61af8"
        VERSION = "2.7.14.3"
        TIMESTAMP = 1700000000
        author_email = "mitsuhiko@gmail.com"
        contact = "jane@example.com"
        phone = "(212) 555-0123"
        ssn_pattern = r"\\d{3}-\\d{2}-\\d{4}"
        name = "John Doe"
        CARD = "4242 4242 4242 4242"
        server = "10.0.0.12:5432"
        logged = "2024-01-05T10:30:00Z request 200"
        LOINC = "2345-7"; SNOMED = "73211009"; CPT = "99213"
    """)
    assert scan_lines("src/settings.py", code, phi_config) == []


def test_context_decides_dates_and_names(phi_config: PhiConfig) -> None:
    text = _lines("""
        patient:
          release_date: 1961-04-12
          birth_date: 1961-04-12
          font-family: Garamond
          family: Garamond
    """)
    assert _types(scan_lines("fixture.yaml", text, phi_config)) == {(3, "DATE"), (5, "PERSON")}


def test_structure_gives_context_across_lines(phi_config: PhiConfig) -> None:
    fhir = _lines("""
        {
          "resourceType": "Patient",
          "name": [
            {
              "given": [
                "Beatrix"
              ]
            }
          ]
        }
    """)
    assert _types(scan_lines("p.json", fhir, phi_config)) == {(6, "PERSON")}
    csv = {1: "id,surname,zip", 2: "7,Kowalski,60614"}
    assert _types(scan_lines("export.csv", csv, phi_config)) == {(2, "PERSON"), (2, "ADDRESS")}


def test_table_header_after_comments_quoted_or_tab_separated(phi_config: PhiConfig) -> None:
    semicolons = {
        1: "# nightly export (synthetic)",
        2: "",
        3: '"First Name";"Last Name";"Date of Birth";"SSN"',
        4: "Maria;Okafor;04/12/1961;412339821",
    }
    found = _types(scan_lines("exports/nightly.csv", semicolons, phi_config))
    assert found == {(4, "PERSON"), (4, "DATE"), (4, "SSN")}
    tabs = {1: "// generated", 2: '"surname"\t"zip"\t"mrn"', 3: "Kowalski\t60614\t00482913"}
    assert _types(scan_lines("out/members.tsv", tabs, phi_config)) == {
        (3, "PERSON"), (3, "ADDRESS"), (3, "MRN"),
    }  # fmt: skip
    no_header = {1: "Maria,Okafor,60614", 2: "Ingrid,Moreau,60615"}
    assert scan_lines("rows.csv", no_header, phi_config) == []  # data, not column names


def test_line_numbers_follow_git_not_other_line_breaks(phi_config: PhiConfig) -> None:
    text = b'x = 1\f# page\r\nssn = "412-33-9821"\r\n'
    assert _types(scan_bytes("t.py", text, phi_config)) == {(2, "SSN")}


def test_python_docstring_examples_are_not_data(phi_config: PhiConfig) -> None:
    source = _lines('''
        def insert():
            """Example::

                stmt = insert(users).values(fullname="Wendy Smith")
            """
            row = dict(fullname="Wendy Smith")
    ''')
    assert _types(scan_lines("lib/sql.py", source, phi_config)) == {(6, "PERSON")}


def test_only_target_lines_are_reported_but_context_is_read(phi_config: PhiConfig) -> None:
    lines = {1: "first_name,last_name,ssn", 2: "Maria,Okafor,412-33-9821", 3: "Ingrid,Moreau,"}
    assert _types(scan_lines("a.csv", lines, phi_config, targets=[3])) == {(3, "PERSON")}


def test_pragma_entities_allow_and_exclude(phi_config: PhiConfig) -> None:
    lines = _lines("""
        ssn = "412-33-9821"  # phi:allow (synthetic)
        # phi:allow
        ssn = "412-33-9821"
        ssn = "412-33-9821"
        email = "maria.okafor@gmail.com"
    """)
    assert _types(scan_lines("t.py", lines, phi_config)) == {(4, "SSN"), (5, "EMAIL")}
    only_email = PhiConfig(entities=("EMAIL",))
    assert _types(scan_lines("t.py", lines, only_email)) == {(5, "EMAIL")}
    allowed = PhiConfig(allow=(r"412-33-\d{4}",))
    assert _types(scan_lines("t.py", lines, allowed)) == {(5, "EMAIL")}
    excluded = PhiConfig(exclude=("fixtures/**",))
    assert scan_bytes("fixtures/t.py", "\n".join(lines.values()).encode(), excluded) == []


def test_policy_section_is_validated() -> None:
    policy = parse_policy("phi:\n  exclude: [docs/**]\n  allow: ['TEST-\\d+']\n  min_score: 0.6\n")
    assert policy.phi.exclude == ("docs/**",) and policy.phi.min_score == 0.6
    bad_files = (
        "phi:\n  allow: ['(']\n",
        "phi:\n  min_score: 2\n",
        "phi:\n  salt: x\n",
        "phi:\n  entities: [SSN, FOO]\n",
    )
    for bad in bad_files:
        try:
            parse_policy(bad)
        except ValueError as exc:
            assert "phi." in str(exc)
        else:
            raise AssertionError(f"accepted {bad!r}")


def test_binary_non_utf8_and_images(phi_config: PhiConfig) -> None:
    assert scan_bytes("lib/blob.bin", bytes(range(256)) * 50, phi_config) == []
    latin = "Patient: Zoë Brontë\nssn: 412-33-9821\n".encode("latin-1")
    assert _types(scan_bytes("notes.txt", latin, phi_config)) == {(1, "PERSON"), (2, "SSN")}
    big = PhiConfig(max_file_bytes=100)
    assert scan_bytes("big.txt", b"ssn: 412-33-9821\n" * 100, big) == []
    dicom = dicom_bytes("OKAFOR^MARIA", "00482913", "19610412")
    assert _types(scan_bytes("scans/a.dcm", dicom, phi_config)) == {(1, "MEDICAL_IMAGE")}
    anonymous = dicom_bytes("ANONYMIZED", "", "")
    assert scan_bytes("scans/b.dcm", anonymous, phi_config) == []
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    assert scan_bytes("assets/logo.png", png, phi_config) == []
    assert _types(scan_bytes("uploads/patient_42.png", png, phi_config)) == {(1, "MEDICAL_IMAGE")}


def test_scan_change_masks_values_and_applies_the_baseline(phi_config: PhiConfig) -> None:
    added = (AddedLine(3, 'ssn = "412-33-9821"'), AddedLine(4, 'mrn = "00482913"'))
    change = Change("o/r", files=(FileChange("t/fixture.py", added_lines=added),))
    findings = scan_change(change, phi_config)
    assert [(f.kind, f.line, f.entity_type) for f in findings] == [
        ("phi", 3, "SSN"),
        ("phi", 4, "MRN"),
    ]
    assert all("412" not in f.message and "00482913" not in f.message for f in findings)
    assert findings[0].column == 8 and findings[0].rule == "ssn" and findings[0].fingerprint
    baseline = Baseline(salt="s1")
    known = Baseline("s1").merge(scan_change(
        Change("o/r", files=(FileChange("t/fixture.py", added_lines=added[:1]),),
               base_files={".x": ""}), phi_config))  # fmt: skip
    assert baseline.salt == known.salt
    with_baseline = Change(
        "o/r",
        files=change.files,
        base_files={phi_config.baseline: _salted(known, phi_config, change)},
    )
    assert [f.entity_type for f in scan_change(with_baseline, phi_config)] == ["MRN"]


def _salted(known: Baseline, config: PhiConfig, change: Change) -> str:
    """The baseline file as committed: fingerprints computed with its own salt."""
    from gitops_health.rules.phi.scan import _file_change_hits, to_finding

    hits = [h for h in _file_change_hits(change.files[0], config) if h.entity_type == "SSN"]
    return Baseline(known.salt).merge(to_finding(h, known.salt) for h in hits).to_json()


def test_clean_scan_imports_no_presidio_and_nothing_touches_the_network(tmp_path) -> None:
    script = textwrap.dedent("""
        import sys
        events = []
        sys.addaudithook(lambda event, args: events.append(event)
                         if event.startswith(("socket.connect", "socket.getaddrinfo")) else None)
        from gitops_health.rules.config.phi import PhiConfig
        from gitops_health.rules.phi import scan_bytes
        from gitops_health.rules.phi.corpus import generate
        clean = b"import os\\nVALUE = 42\\n\\ndef main() -> int:\\n    return VALUE\\n" * 200
        assert scan_bytes("src/app.py", clean, PhiConfig()) == []
        print("presidio after clean:", "presidio_analyzer" in sys.modules, "spacy" in sys.modules)
        assert "gitops_health.rules.phi.specs" not in sys.modules  # decided by the pre-filter
        found = sum(len(scan_bytes(f.path, f.content, PhiConfig())) for f in generate(1, 1))
        print("found", found > 50, "network events", events)
    """)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout
    assert "presidio after clean: False False" in out
    assert "found True network events []" in out
