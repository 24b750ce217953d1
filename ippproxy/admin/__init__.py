"""ippproxy.admin"""
