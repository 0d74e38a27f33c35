"""Word of a reply: a customer who has not read an agent's reply gets one e-mail per burst, in their language."""
