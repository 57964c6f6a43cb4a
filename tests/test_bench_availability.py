"""`mend bench`'s availability section: the pure engine on made-up data, apart from the page cases."""

import json

from django.core.management import call_command

from mend.core import availability as av
from mend.web import bench, bench_availability


def test_the_made_up_clinic_has_the_stated_size_and_a_busy_calendar_offers_fewer_slots():
    calendar, kind, first, last, now = bench_availability.scenario(appointments=200)
    assert (len(calendar.therapists), len(calendar.rooms), len(calendar.appointments)) == (20, 10, 200)
    assert (last - first).days == 27
    rows = bench_availability.measure(sizes=(0, 200, 2000), repeat=1, warmup=0)
    assert [row.appointments for row in rows] == [0, 200, 2000]
    assert rows[0].slots > rows[1].slots > rows[2].slots
    slots = av.free_slots(calendar=calendar, appointment_type=kind, first=first, last=last, now=now)
    assert len(slots) == rows[1].slots


def test_bench_availability_only_prints_its_table_and_writes_its_own_file(tmp_path, capsys):
    output = tmp_path / "results.json"
    call_command("bench", "--availability-only", "--quick", "--repeat", "1", "--warmup", "0", "--output", str(output))
    printed = capsys.readouterr().out
    assert "Availability engine (pure, no database): 20 therapists x 10 rooms x 4 weeks" in printed
    assert "query p50 ms" in printed
    written = json.loads((tmp_path / "availability.json").read_text())
    assert set(written) == {"100", "1000"}
    assert written["1000"]["query"]["p50_ms"] > 0 and written["1000"]["query"]["slots"] > 0
    assert not output.exists()  # the page cases' file is left alone
    assert "availability" not in {case.name for case in bench.CASES}
