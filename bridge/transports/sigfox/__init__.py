"""The Sigfox transport (in progress): devices that only speak through Sigfox's callbacks.

So far: the custom-payload grammar (`codec`). The transport itself is not
registered yet.
"""
