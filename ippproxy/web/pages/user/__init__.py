"""The user web app at ``/user/`` (issue 17 §8): a user's own balance, jobs, transactions,
held jobs, live questions, personal printer URLs and the client download page; the same
stack as the admin pages (server-rendered Jinja2, htmx, server-sent events)."""
