"""ippproxy.jobs"""
