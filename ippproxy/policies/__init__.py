"""ippproxy.policies"""
