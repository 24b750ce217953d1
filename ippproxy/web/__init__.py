"""ippproxy.web"""
