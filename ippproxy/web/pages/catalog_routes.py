"""The routes of the catalog's admin pages: cost models, rules, groups, options and the
audit log (each page checks its section's right through the services)."""

from __future__ import annotations

from aiohttp import web

from ippproxy.web.pages import audit, cost_models, groups, options, rules

# The pages' links, in the order the navigation shows them: (path, nav key, label).
NAV = (("/admin/cost-models", "cost-models", "Cost models"), ("/admin/rules", "rules", "Rules"),
       ("/admin/groups", "groups", "Groups"), ("/admin/options", "options", "Options"),
       ("/admin/audit", "audit", "Audit log"), ("/admin/directory", "directory", "User source"),
       ("/admin/roles", "roles", "Roles"))


def add_catalog_pages(r: web.UrlDispatcher) -> None:
    r.add_get("/admin/cost-models", cost_models.cost_model_list)
    r.add_get("/admin/cost-models/new", cost_models.cost_model_new)
    r.add_post("/admin/cost-models", cost_models.cost_model_create)
    r.add_get("/admin/cost-models/{name}", cost_models.cost_model_edit)
    r.add_post("/admin/cost-models/{name}", cost_models.cost_model_update)
    r.add_get("/admin/rules", rules.rule_list)
    r.add_get("/admin/rules/new", rules.rule_new)
    r.add_post("/admin/rules", rules.rule_create)
    r.add_get("/admin/rules/{name}", rules.rule_edit)
    r.add_post("/admin/rules/{name}", rules.rule_update)
    r.add_get("/admin/groups", groups.group_list)
    r.add_get("/admin/groups/new", groups.group_new)
    r.add_post("/admin/groups", groups.group_create)
    r.add_get("/admin/groups/{name}", groups.group_edit)
    r.add_post("/admin/groups/{name}/{part}", groups.group_change)
    r.add_get("/admin/options", options.option_list)
    r.add_post("/admin/options/{key}", options.option_change)
    r.add_get("/admin/audit", audit.audit_log)
