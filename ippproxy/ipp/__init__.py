"""ippproxy.ipp"""
