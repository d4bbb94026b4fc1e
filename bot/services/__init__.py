"""The service layer: what people do that is not a step of a flow.

Coaching commands (/coach, /resume, /pause, /back, /cancel, ...) run inside a turn;
hand-offs start the model a session planned; plans, team and home are short
transactions a surface runs through ``Database.run``. Services name no platform: the
person is found by ``Who`` and the result is data each surface puts into words.
"""
