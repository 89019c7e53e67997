"""The seed case end to end through `crashdesk chat`, in two processes on
one database file: the second sees what the first recorded."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "seed-shaped-thread.txt"


def chat(tmp_path, lines, lang="zh", user="危亮"):
    env = {"PATH": "/usr/bin:/bin", "CRASHDESK_DB": str(tmp_path / "cases.db"),
           "CRASHDESK_DATA_DIR": str(tmp_path / "data"), "TZ": "Asia/Shanghai", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--lang", lang, "--user", user],
                       input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return r.stdout


def test_seed_case_across_two_processes(tmp_path):
    first = chat(tmp_path, [
        "[案例号: CAS-04716-C3F2K9] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应 CMIT:0001032",
        f"upload {EXAMPLE}",
        "case call 客户同意升级亚信安全软件，观察一周",
    ])
    assert "已建立案例 CAS-04716-C3F2K9" in first
    assert "2 个 dump，2 种 BugCheck，指向同一厂商：亚信安全" in first
    second = chat(tmp_path, [
        "case show CAS-04716-C3F2K9",
        "case archive CAS-04716-C3F2K9 用户升级亚信安全软件，查看后续运行情况",
        "case list archived",
    ], user="lead")
    assert "观察中" in second and "下一步: 观察一周" in second
    assert "客户同意升级亚信安全软件" in second
    assert "问题定义：" in second and "与亚信安全的相关模块 VSApiNt 和 TmXPFlt 有关" in second
    assert "已归档案例（1 个）" in second


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    """Two consoles logging calls on one case concurrently: every call is kept."""
    chat(tmp_path, ["case open CAS-00001-AAAAAA P3 customer:X test"], lang="en")
    lines_a = [f"case note CAS-00001-AAAAAA note A{i}" for i in range(40)]
    lines_b = [f"case note CAS-00001-AAAAAA note B{i}" for i in range(40)]
    env = {"PATH": "/usr/bin:/bin", "CRASHDESK_DB": str(tmp_path / "cases.db"),
           "CRASHDESK_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "chat", "--user", u], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
             for u in ("a", "b")]
    outs = [p.communicate("\n".join(lines) + "\n", timeout=120) for p, lines in zip(procs, (lines_a, lines_b))]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert out.count("Note logged") == 40
    import sqlite3

    db = sqlite3.connect(tmp_path / "cases.db")
    assert db.execute("select count(*) from followups").fetchone()[0] == 80
    assert db.execute("select count(*) from audit where action = 'followup:note'").fetchone()[0] == 80
