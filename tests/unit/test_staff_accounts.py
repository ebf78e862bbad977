"""Staff accounts: creating them, and the rules that keep the service manageable."""

import pytest

from yanpiao import audit
from yanpiao.accounts import Role, create_user
from yanpiao.audit import Subject
from yanpiao.credentials import delete_account
from yanpiao.staff_accounts import StaffError, active_staff, change_role, create_account, set_active

PASSWORD = "correct horse battery"


@pytest.fixture
def admin(session):
    user = create_account(session, "boss@example.com", PASSWORD, Role.ADMIN, actor_id=None)
    session.commit()
    return user


@pytest.mark.parametrize("email, password, role, code", [
    ("not-an-email", PASSWORD, Role.STAFF, "email"),
    ("new@example.com", "short", Role.STAFF, "password"),
    ("new@example.com", PASSWORD, Role.USER, "role"),
    ("BOSS@example.com", PASSWORD, Role.STAFF, "exists"),
])
def test_create_account_refuses(session, admin, email, password, role, code):
    with pytest.raises(StaffError, match=code):
        create_account(session, email, password, role, actor_id=admin.id)


def test_admin_manages_staff_with_an_audit_trail(session, admin):
    colleague = create_account(session, "Kim@Example.com", PASSWORD, Role.STAFF, actor_id=admin.id)
    assert colleague.email == "kim@example.com" and colleague.check_password(PASSWORD)
    change_role(session, colleague, Role.ADMIN, actor_id=admin.id)
    set_active(session, colleague, False, actor_id=admin.id)
    session.commit()
    assert [u.email for u in active_staff(session)] == ["boss@example.com"]
    trail = [(e.action, e.actor_id, e.old_value, e.new_value)
             for e in audit.trail(session, Subject.USER, colleague.id)]
    assert trail == [("created", admin.id, "", "staff"), ("role", admin.id, "staff", "admin"),
                     ("active", admin.id, "True", "False")]


def test_nobody_locks_the_service_or_themselves_out(session, admin):
    with pytest.raises(StaffError, match="self"):
        set_active(session, admin, False, actor_id=admin.id)
    with pytest.raises(StaffError, match="self"):
        change_role(session, admin, Role.STAFF, actor_id=admin.id)
    # With the other administrator deactivated, the last active one stays what it is.
    helper = create_user(session, PASSWORD, email="helper@example.com", role=Role.ADMIN)
    set_active(session, helper, False, actor_id=admin.id)
    with pytest.raises(StaffError, match="last_admin"):
        change_role(session, admin, Role.STAFF, actor_id=helper.id)
    with pytest.raises(StaffError, match="last_admin"):
        set_active(session, admin, False, actor_id=helper.id)
    with pytest.raises(StaffError, match="last_admin"):
        delete_account(session, admin.id)
    assert session.get(type(admin), admin.id) is admin
