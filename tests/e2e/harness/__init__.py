"""Helpers shared by the end-to-end tests: free ports, the server under test, SIPp,
baresip, raw SIP/RTP datagrams, WAV analysis and the HTTP API."""
