"""The household's pages: the owner invites, changes roles and removes; an invitee
accepts (signed in, or with a new account the invitation allows); a member leaves.

The invitation page is the one console page a person may open before signing in: it
shows whose household and what role, and nothing without a live invitation's token.
"""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bridge.console.params import InviteForm, JoinForm, MemberForm, TokenQuery
from bridge.households.service import JOIN_PATH, until_from
from bridge.http import boundary
from bridge.http.sessions import csrf, current_user, sign_in
from bridge.model import BridgeError, User
from bridge.reports.delivery import announce


def _bridge() -> Any:
    return current_app.extensions["bridge"]


def _refused(title: str, message: str, status: int = 422) -> tuple[str, int]:
    return render_template("oauth/error.html", title=title, message=message), status


def section(user: User) -> dict[str, Any]:
    """What the console's household section shows this person."""
    store = _bridge().store

    def name(user_id: int) -> str:
        found = store.users.by_id(user_id)
        return found.name if found else f"#{user_id}"

    members = [
        {
            "id": m.user_id,
            "name": name(m.user_id),
            "role": m.role,
            "named": m.named,
            "until": m.until,
        }
        for m in store.households.members(user.id)
    ]
    belongs = [
        {"owner": m.owner_id, "name": name(m.owner_id), "role": m.role, "until": m.until}
        for m in store.households.of_member(user.id)
        if m.live(time.time())
    ]
    return {"members": members, "belongs": belongs}


def people(user: User, shown: dict[str, Any]) -> dict[int, str]:
    """Who can be named as the sender of a row of this person's history, by id (a `section`):
    their members, and themselves when they belong to a household (their commands there)."""
    found = {m["id"]: m["name"] for m in shown["members"]}
    if shown["belongs"]:
        found[user.id] = user.name
    return found


def join_page() -> Response | tuple[str, int]:
    token = boundary.from_params(request.args, TokenQuery).token
    invitation = _bridge().store.households.peek(token) if token else None
    if invitation is None:
        return _refused(
            "This invitation is not valid",
            "It was used already, it has expired, or the link is incomplete. Ask for a new one.",
            404,
        )
    owner = _bridge().store.users.by_id(invitation.owner_id)
    page = render_template(
        "console/join.html",
        invitation=invitation,
        owner=owner.name if owner else "",
        user=current_user(),
        token=token,
        next=f"{JOIN_PATH}?token={token}",
    )
    return page, 200


def join() -> Response | tuple[str, int]:
    csrf.protect()
    form = boundary.from_params(request.form, JoinForm)
    store, user = _bridge().store, current_user()
    if store.households.peek(form.token) is None:
        return _refused("This invitation is not valid", "It was used already or has expired.", 404)
    try:
        if user is None:  # a new account, allowed by a live invitation alone
            user, _ = store.users.create(form.username, form.password)
            sign_in(user)
        _bridge().households.join(user, form.token)
    except BridgeError as exc:
        return _refused("You did not join", exc.message)
    return redirect(url_for("console.home"), code=303)


def invite() -> Response | tuple[str, int]:
    csrf.protect()
    form = boundary.from_params(request.form, InviteForm)
    user = current_user()
    try:
        invitation, token = _bridge().households.invite(
            user, form.role, tuple(form.device), until_from(form.until, time.time()), by=user
        )
    except BridgeError as exc:
        return _refused("The invitation was not made", exc.message)
    url = f"{request.host_url.rstrip('/')}{JOIN_PATH}?token={token}"
    return render_template("console/invited.html", invitation=invitation, url=url), 200


def member() -> Response | tuple[str, int]:
    csrf.protect()
    form = boundary.from_params(request.form, MemberForm, from_strings=True)
    user = current_user()
    try:
        if form.role:
            _bridge().households.set_role(user, form.member, form.role)
        else:
            _bridge().households.remove(user, form.member)
    except BridgeError as exc:
        return _refused("Nothing changed", exc.message, 404)
    return redirect(url_for("console.home"), code=303)


def delete_device(device_id: str) -> Response | tuple[str, int]:
    """Delete a device: the role must allow it (its owner's does; a member's does not)."""
    csrf.protect()
    bridge, user = _bridge(), current_user()
    device = bridge.store.devices.get(device_id) if len(device_id) <= 64 else None
    role = bridge.devices.access.role(user.id, device) if device is not None else None
    if role is None:
        return _refused("No such device", "No device of yours has this id.", 404)
    if not role.deletes_devices:
        return _refused("Not deleted", f"A {role.name} may not delete a device.", 403)
    bridge.store.devices.delete(device.id)
    announce(bridge.store, device.user_id, device.id, "removed")  # everyone who reached it
    return redirect(url_for("console.home"), code=303)


def leave() -> Response | tuple[str, int]:
    csrf.protect()
    form = boundary.from_params(request.form, MemberForm, from_strings=True)
    user = current_user()
    owner = _bridge().store.users.by_id(form.member)
    try:
        if owner is None:
            raise BridgeError("no such household")
        _bridge().households.remove(owner, user.id, by=user)
    except BridgeError as exc:
        return _refused("Nothing changed", exc.message, 404)
    return redirect(url_for("console.home"), code=303)
