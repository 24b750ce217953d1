"""ippproxy.accounting"""
