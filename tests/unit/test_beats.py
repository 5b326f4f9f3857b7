"""A rebooting host's heartbeat (beats.py): live until its deadline, then down."""

from celeryroot.beats import REBOOTING, STOPPED, Beat, decode


def test_a_rebooting_record_is_live_until_its_deadline_without_beating():
    beat = decode(Beat(at=100.0, state=REBOOTING, until=400.0).encode())
    assert beat.until == 400.0
    assert beat.live(101.0) and beat.live(399.0), "the controller must wait out the reboot"
    assert not beat.live(400.5), "a host not back by its deadline is down"


def test_a_rebooting_record_without_a_deadline_or_from_the_future_is_not_live():
    assert not Beat(at=100.0, state=REBOOTING).live(101.0)
    assert not Beat(at=200.0, state=REBOOTING, until=900.0).live(100.0)


def test_a_stopped_record_stays_down_whatever_its_deadline():
    assert not Beat(at=100.0, state=STOPPED, until=400.0).live(101.0)
