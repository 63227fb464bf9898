from pathlib import Path

import pytest

from lasandbox.utils import machine


def test_cpu_model_is_the_model_name_line(monkeypatch):
    text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14 96-Core Processor\n"
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: text)
    assert machine.cpu_model() == "AMD EPYC 9R14 96-Core Processor"


@pytest.mark.parametrize("processor, expected", [("Intel64 Family 6", "Intel64 Family 6"), ("", "x86_64")])
def test_cpu_model_without_cpuinfo_falls_back_to_platform(monkeypatch, processor, expected):
    def unreadable(self, *a, **k):
        raise OSError("no /proc here")

    monkeypatch.setattr(Path, "read_text", unreadable)
    monkeypatch.setattr(machine.platform, "processor", lambda: processor)
    monkeypatch.setattr(machine.platform, "machine", lambda: "x86_64")
    assert machine.cpu_model() == expected
