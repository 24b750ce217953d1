"""Log a real headless Chromium in to the real server's admin pages through the product's
own login form handler (``POST /admin/login``, ``web/auth.py``), with the password the
server printed at first start.

Until the login page (``GET /admin/login``, being built by another helper) exists, the
browser builds the same form in the page it is on and submits it: the request, the
session cookie (Secure, HttpOnly, SameSite=Strict) and the redirect are the product's.
When the page exists, its own fields are filled in instead.

The server's certificate is its generated self-signed one; Chromium is told to accept
certificate errors over the DevTools protocol (``Security.setIgnoreCertificateErrors``)
since it cannot be handed one CA file. The connection is still TLS, so the Secure cookie
is set and sent as in production.
"""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

SUBMIT_LOGIN_JS = """
const [name, password] = arguments;
const form = document.createElement('form');
form.method = 'post';
form.action = '/admin/login';
for (const [k, v] of [['username', name], ['password', password]]) {
  const input = document.createElement('input');
  input.type = 'hidden'; input.name = k; input.value = v;
  form.appendChild(input);
}
document.body.appendChild(form);
form.submit();
"""


def accept_server_certificate(driver: webdriver.Chrome) -> None:
    driver.execute_cdp_cmd("Security.setIgnoreCertificateErrors", {"ignore": True})


def log_in(driver: webdriver.Chrome, base: str, name: str, password: str) -> None:
    """Log in as ``name`` and wait until the session cookie is set."""
    accept_server_certificate(driver)
    driver.get(base + "/admin/login")
    fields = driver.find_elements(By.CSS_SELECTOR, "form input[name=username]")
    if fields:
        fields[0].send_keys(name)
        driver.find_element(By.CSS_SELECTOR, "form input[name=password]").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "form input[name=password]").submit()
    else:
        driver.execute_script(SUBMIT_LOGIN_JS, name, password)
    WebDriverWait(driver, 20).until(
        lambda d: any(c["name"] == "ippproxy_session" for c in d.get_cookies()))
    cookie = next(c for c in driver.get_cookies() if c["name"] == "ippproxy_session")
    assert cookie["secure"] and cookie["httpOnly"], cookie
