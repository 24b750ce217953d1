"""ippproxy.forwarding"""
