"""Group membership from every shape of group, nested groups flattened, cycles cut (pure)."""

from __future__ import annotations

from ippproxy.directory.nesting import RawGroup, memberships, normal_dn

USERS = {normal_dn("uid=a, ou=People,dc=x"): "a", normal_dn("uid=b,ou=people,dc=x"): "b",
         normal_dn("uid=c,ou=people,dc=x"): "c"}


def test_shapes_nesting_and_cycles() -> None:
    groups = [
        RawGroup("top", "cn=top,dc=x", ("cn=mid,dc=x", "UID=A,ou=people,dc=x")),
        RawGroup("mid", "cn=mid,dc=x", ("cn=leaf,dc=x", "cn=top,dc=x")),      # a cycle
        RawGroup("leaf", "cn=leaf,dc=x", (), ("b", "stranger")),               # posixGroup
        RawGroup("viaoverlay", "cn=viaoverlay,dc=x"),
        RawGroup("self", "cn=self,dc=x", ("cn=self,dc=x",)),
    ]
    got = memberships(groups, USERS, {"c": ["CN=viaoverlay, dc=x"], "a": ["cn=unknown,dc=x"]})
    assert got == {"top": {"a", "b"}, "mid": {"a", "b"}, "leaf": {"b"},
                   "viaoverlay": {"c"}, "self": set()}
    flat = memberships(groups, USERS, {}, nested=False)
    assert flat["top"] == {"a"} and flat["mid"] == set()
