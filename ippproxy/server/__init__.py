"""ippproxy.server"""
