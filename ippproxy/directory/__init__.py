"""ippproxy.directory"""
