from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from torngas.auth import login, logout, redirect_to_next

from accounts.forms import LoginForm, SignupForm
from accounts.models import User
from accounts.passwords import check_password, hash_password
from common.handlers import BaseHandler


class Signup(BaseHandler):
    def get(self):
        self.render("accounts/signup.html", form=SignupForm(self))

    async def post(self):
        form = SignupForm(self)  # bound to the posted form body
        if form.validate_on_submit():  # the _xsrf token was checked before prepare()
            name = form.username.data
            session = User.asession
            if await session.scalar(select(User.id).where(User.username == name)) is None:
                user = User(username=name, password_hash=await hash_password(form.password.data))
                session.add(user)
                try:
                    await session.commit()  # writes go to the primary
                except IntegrityError:  # somebody took the name a moment ago
                    await session.rollback()
                else:
                    # New session id (no fixation), then the user in it.
                    login(self, user={"id": user.id, "name": user.username})
                    self.flash(f"Welcome to Agora, {user.username}!", "success")
                    return self.redirect(self.reverse_url("board.index"))
            form.username.errors.append("This name is taken.")
        self.set_status(400)  # the same page with the errors; nothing was saved
        self.render("accounts/signup.html", form=form)


class Login(BaseHandler):
    def get(self):
        self.render("accounts/login.html", form=LoginForm(self))

    async def post(self):
        form = LoginForm(self)
        if form.validate_on_submit():
            stmt = select(User).where(User.username == form.username.data)
            user = await User.asession.scalar(stmt)
            if await check_password(user.password_hash if user else None, form.password.data):
                login(self, user={"id": user.id, "name": user.username})
                self.flash(f"Welcome back, {user.username}!", "success")
                return redirect_to_next(self)  # ?next= if it stays on this site, else "/"
            # Shown by base.html in this very response (flash messages are read there).
            self.flash("Wrong user name or password.", "error")
        self.set_status(400)
        self.render("accounts/login.html", form=form)


class Logout(BaseHandler):
    def post(self):  # a POST with the _xsrf token: a link on another site cannot log you out
        logout(self)  # session data, stored record and cookie deleted
        self.flash("You are logged out. See you soon!")
        self.redirect(self.reverse_url("board.index"))
