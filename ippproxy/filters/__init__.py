"""ippproxy.filters"""
